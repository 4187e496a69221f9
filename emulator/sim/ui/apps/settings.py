"""Settings: Wi-Fi, Bluetooth, airplane mode and Do Not Disturb, backed by Settings.Global.

A switch writes the same ``content://settings/global`` row that ``settings put
global`` does, so the UI and the shell always agree. Turning airplane mode on
turns the Wi-Fi and Bluetooth radios off, as Android's default
``airplane_mode_radios`` does.
"""

from __future__ import annotations

from typing import ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ListRow, Switch, Text

GLOBAL = "content://settings/global"

# (setting, title, summary when on, summary when off, value when on)
TOGGLES = [
    ("wifi_on", "Wi-Fi", "On", "Off", "1"),
    ("bluetooth_on", "Bluetooth", "On", "Off", "1"),
    ("airplane_mode_on", "Airplane mode", "On", "Off", "1"),
    ("zen_mode", "Do Not Disturb", "On (priority only)", "Off", "1"),
]


class SettingsApp(App):
    package = "com.android.settings"
    label = "Settings"
    color = (95, 99, 104)
    apk = "/system_ext/priv-app/SettingsGoogle/SettingsGoogle.apk"
    activities: ClassVar[dict[str, str]] = {
        "main": ".Settings",
        "about": ".Settings$MyDeviceInfoActivity",
        "wifi": ".Settings$WifiSettingsActivity",
        "bluetooth": ".Settings$BluetoothSettingsActivity",
    }

    def get(self, name: str) -> str | None:
        rows = self.ctx.providers.query(GLOBAL, ["value"], "name=?", [name])
        return None if not rows else rows[0].get("value")

    def put(self, name: str, value: str) -> None:
        self.ctx.providers.insert(GLOBAL, {"name": name, "value": value})

    def is_on(self, name: str) -> bool:
        value = self.get(name)
        return value not in (None, "", "0")

    def toggle(self, name: str) -> None:
        on = not self.is_on(name)
        self.put(name, "1" if on else "0")
        if name == "airplane_mode_on" and on:
            self.put("wifi_on", "0")
            self.put("bluetooth_on", "0")

    def _row(self, name: str, title: str, on_text: str, off_text: str) -> ListRow:
        on = self.is_on(name)
        return ListRow(
            title=title,
            subtitle=on_text if on else off_text,
            rid=name,
            checkable=True,
            checked=on,
            switch=Switch(),
            on_click=lambda: self.toggle(name),
        )

    def screen_main(self, entry: Entry) -> Screen:
        rows: list[View] = [
            Text(text="Network & internet", rid="category", size=14, bold=True, color=self.color)
        ]
        for name, title, on_text, off_text, _ in TOGGLES:
            if name == "zen_mode":
                rows.append(
                    Text(
                        text="Sound & notifications",
                        rid="category",
                        size=14,
                        bold=True,
                        color=self.color,
                    )
                )
            rows.append(self._row(name, title, on_text, off_text))
        rows.append(Text(text="System", rid="category", size=14, bold=True, color=self.color))
        rows.append(
            ListRow(
                title="About phone",
                subtitle=self.ctx.props.get("ro.product.model", "Pixel"),
                rid="about_phone",
                on_click=lambda: self.ui.push(self, "about"),
            )
        )
        return Screen(self.toolbar("Settings", up=False), rows)

    def screen_wifi(self, entry: Entry) -> Screen:
        return Screen(self.toolbar("Wi-Fi"), [self._row("wifi_on", "Use Wi-Fi", "On", "Off")])

    def screen_bluetooth(self, entry: Entry) -> Screen:
        return Screen(
            self.toolbar("Bluetooth"), [self._row("bluetooth_on", "Use Bluetooth", "On", "Off")]
        )

    def screen_about(self, entry: Entry) -> Screen:
        p = self.ctx.props
        facts = [
            ("Device name", p.get("ro.product.model", "Pixel")),
            ("Model", p.get("ro.product.model", "Pixel")),
            ("Android version", p.get("ro.build.version.release", "14")),
            ("Build number", p.get("ro.build.display.id", "")),
            ("Serial number", self.ctx.serial),
        ]
        return Screen(
            self.toolbar("About phone"),
            [ListRow(title=t, subtitle=v or "Unknown", rid="about") for t, v in facts],
        )
