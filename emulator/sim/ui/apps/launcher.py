"""The home screen (Pixel launcher): the date, an icon per app, and the recents list."""

from __future__ import annotations

from typing import ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, Spacer, View
from emulator.sim.ui.widgets import Grid, Icon, ListRow, Text


class LauncherApp(App):
    package = "com.google.android.apps.nexuslauncher"
    label = "Pixel Launcher"
    apk = "/system_ext/priv-app/NexusLauncherRelease/NexusLauncherRelease.apk"
    activities: ClassVar[dict[str, str]] = {
        "home": ".NexusLauncherActivity",
        "recents": ".NexusLauncherActivity",
    }
    main_screen = "home"
    in_launcher = False

    def screen_home(self, entry: Entry) -> Screen:
        now = self.ctx.clock.now()
        icons: list[View] = []
        for app in self.ui.apps.values():
            if not app.in_launcher:
                continue
            icons.append(
                Icon(
                    text=app.label,
                    desc=app.label,
                    color=app.color,
                    on_click=lambda pkg=app.package: self.ui.start(pkg),
                )
            )
        return Screen(
            None,
            [
                Spacer(height_dp=24),
                Text(text=now.strftime("%A, %B %-d"), rid="date", size=22, bold=True, pad=24),
                Spacer(height_dp=16),
                Grid(children=icons, rid="apps_grid"),
            ],
            background=(232, 240, 254),
        )

    def screen_recents(self, entry: Entry) -> Screen:
        rows: list[View] = []
        for pkg in reversed(list(self.ui.recents)):
            app = self.ui.apps[pkg]
            rows.append(
                ListRow(
                    title=app.label,
                    subtitle="Tap to open",
                    desc=app.label,
                    avatar=app.color,
                    rid="snapshot",
                    on_click=lambda pkg=pkg: self.ui.start(pkg),
                )
            )
        if not rows:
            rows.append(Text(text="No recent items", rid="empty", center=True, vpad=48))
        clear = self.button("Clear all", self._clear_all, rid="clear_all")
        return Screen(
            self.toolbar("Recent apps", up=True), rows, bottom=[clear] if self.ui.recents else []
        )

    def _clear_all(self) -> None:
        self.ui.recents.clear()
        self.ui.home()
