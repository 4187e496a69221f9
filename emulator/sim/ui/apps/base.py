"""What every built-in app shares: identity, screens by name, and form helpers.

An app's screen is a pure function of its *entry* (a JSON-able dict on the
back stack: screen name, arguments, form drafts, focus, scroll) and of the
phone's data (providers, files). Handlers change the entry or the data; the
system rebuilds the screen afterwards. Keeping drafts in the entry is what
lets ``state()``/``restore()`` bring back a half-typed message.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from emulator.sim.ui.render import Color
from emulator.sim.ui.views import Action, Screen
from emulator.sim.ui.widgets import Button, ButtonRow, Dialog, Field, Text, Toolbar

if TYPE_CHECKING:
    from emulator.sim.ui.system import UiSystem

Entry = dict[str, Any]


class App:
    """One installed app: package, label, activities, and its screens."""

    package: ClassVar[str] = ""
    label: ClassVar[str] = ""
    color: ClassVar[Color] = (26, 115, 232)
    apk: ClassVar[str] = ""
    # screen name -> activity class name ("." prefix is relative to the package)
    activities: ClassVar[dict[str, str]] = {}
    main_screen: ClassVar[str] = "main"
    # Screens that show one item (need arguments an ``am start -n`` cannot give): an explicit
    # start of their activity opens the main screen instead.
    item_screens: ClassVar[frozenset[str]] = frozenset()
    in_launcher: ClassVar[bool] = True

    def __init__(self, ui: UiSystem) -> None:
        self.ui = ui
        self.ctx = ui.ctx

    # -- identity ---------------------------------------------------------------
    def activity(self, screen: str) -> str:
        name = self.activities.get(screen) or self.activities[self.main_screen]
        return self.package + name if name.startswith(".") else name

    def screen_for(self, activity: str) -> str | None:
        """The screen an explicit ``am start -n pkg/activity`` opens, or None if unknown."""
        full = self.package + activity if activity.startswith(".") else activity
        for screen, _name in self.activities.items():
            if self.activity(screen) == full:
                return self.main_screen if screen in self.item_screens else screen
        return None

    def entry(self, screen: str | None = None, **args: Any) -> Entry:
        return {
            "pkg": self.package,
            "screen": screen or self.main_screen,
            "args": args,
            "form": {},
            "focus": None,
            "caret": 0,
            "scroll": None,
            "dialog": None,
        }

    def on_start(self, entry: Entry) -> None:
        """Called when the app comes to the front (launcher, ``am start``); most do nothing."""

    def on_resume(self, entry: Entry) -> None:
        """Called when ``entry`` is on top again after the screen above it went (back);
        most do nothing, apps on a server refresh what it shows."""

    def build(self, entry: Entry) -> Screen:
        builder: Callable[[Entry], Screen] | None = getattr(self, f"screen_{entry['screen']}", None)
        if builder is None:
            return Screen(
                Toolbar(title=self.label, color=self.color),
                [Text(text=f"Unknown screen {entry['screen']}")],
            )
        return builder(entry)

    # -- helpers for screens --------------------------------------------------------
    def toolbar(
        self, title: str, up: bool = True, actions: list[tuple[str, Action]] | None = None
    ) -> Toolbar:
        return Toolbar(
            title=title, color=self.color, on_up=self.ui.back if up else None, actions=actions or []
        )

    def field(
        self,
        entry: Entry,
        fid: str,
        label: str,
        value: str = "",
        hint: str = "",
        multiline: bool = False,
        min_lines: int = 1,
        password: bool = False,
        on_submit: Action | None = None,
    ) -> Field:
        """An EditText whose content lives in ``entry["form"][fid]`` (seeded with ``value``)."""
        form = entry.setdefault("form", {})
        if fid not in form:
            form[fid] = value
        text = form[fid]
        focused = entry.get("focus") == fid
        return Field(
            rid=fid,
            text=text,
            hint=hint or label,
            label=label,
            multiline=multiline,
            min_lines=min_lines,
            password=password,
            focused=focused,
            caret=min(int(entry.get("caret") or 0), len(text)) if focused else 0,
            on_submit=on_submit,
            on_click=lambda: self.ui.focus_field(entry, fid),
        )

    def button(self, text: str, action: Action, rid: str = "", style: str = "filled") -> Button:
        return Button(
            text=text,
            desc="",
            rid=rid or _rid(text),
            on_click=action,
            color=self.color,
            style=style,
        )

    def fab(self, text: str, action: Action) -> Button:
        return Button(text=text, desc=text, rid="fab", on_click=action, color=self.color)

    def confirm(self, entry: Entry, title: str, message: str, ok: str, action: Action) -> Dialog:
        """A two-button dialog (Cancel / ``ok``)."""

        def cancel() -> None:
            entry["dialog"] = None

        def accept() -> None:
            entry["dialog"] = None
            action()

        return Dialog(
            title=title,
            on_cancel=cancel,
            children=[
                Text(text=message, rid="android:id/message", vpad=8),
                ButtonRow(
                    children=[
                        Button(
                            text="Cancel",
                            rid="android:id/button2",
                            on_click=cancel,
                            style="text",
                            color=self.color,
                        ),
                        Button(
                            text=ok,
                            rid="android:id/button1",
                            on_click=accept,
                            style="text",
                            color=self.color,
                        ),
                    ]
                ),
            ],
        )

    def delete_dialog(
        self, entry: Entry, title: str, message: str, delete: Action
    ) -> tuple[Action, Dialog | None]:
        """A "Delete" toolbar action and its confirmation dialog (``None`` unless it is up);
        confirming runs ``delete``."""

        def ask() -> None:
            entry["dialog"] = "delete"

        dialog = None
        if entry.get("dialog") == "delete":
            dialog = self.confirm(entry, title, message, "Delete", delete)
        return ask, dialog

    def delete_file_dialog(
        self, entry: Entry, path: str, title: str
    ) -> tuple[Action, Dialog | None]:
        """:meth:`delete_dialog` for ``path``: confirming removes the file and goes back to the
        screen that listed it."""

        def delete() -> None:
            self.ctx.vfs.remove(path)
            self.ui.back()

        return self.delete_dialog(entry, title, posixpath.basename(path), delete)

    def empty_note(self, text: str, rid: str = "empty") -> Text:
        """What a list shows when there is nothing in it."""
        return Text(text=text, rid=rid, center=True, vpad=48, color=(95, 99, 104))

    def form(self, entry: Entry, fid: str) -> str:
        return str(entry.get("form", {}).get(fid, ""))


def _rid(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.lower()).strip("_")
