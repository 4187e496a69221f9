"""Notes (Markor-like): markdown files under ``/sdcard/Documents/Notes``.

The file on the phone's filesystem is the note: the list reads the folder,
the editor loads the file's text and "Save" writes it back as UTF-8, so
``adb pull`` or ``cat`` sees exactly what was typed.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ListRow, Text

NOTES_DIR = "/sdcard/Documents/Notes"
ERROR = (217, 48, 37)


class NotesApp(App):
    package = "net.gsantner.markor"
    label = "Markor"
    color = (56, 142, 60)
    apk = "/data/app/net.gsantner.markor-1/base.apk"
    item_screens: ClassVar[frozenset[str]] = frozenset({"doc"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".activity.MainActivity",
        "new": ".activity.MainActivity",
        "doc": ".activity.DocumentActivity",
    }

    def _dir(self, entry: Entry) -> str:
        folder = entry["args"].get("dir") or NOTES_DIR
        if not self.ctx.vfs.exists(folder):
            self.ctx.vfs.mkdir(folder)
        return folder

    def _is_dir(self, path: str) -> bool:
        return self.ctx.vfs.host_path(path).is_dir()

    def read(self, path: str) -> str:
        return self.ctx.vfs.read_bytes(path).decode("utf-8", errors="replace")

    def save(self, entry: Entry) -> None:
        self.ctx.vfs.write_bytes(entry["args"]["path"], self.form(entry, "editor").encode())
        entry["saved"] = self.form(entry, "editor")

    def create(self, entry: Entry) -> None:
        name = self.form(entry, "name").strip()
        if not name or "/" in name or name in (".", ".."):
            entry["error"] = "Enter a file name without '/'"
            return
        if "." not in name:
            name += ".md"
        path = posixpath.join(self._dir(entry), name)
        if self.ctx.vfs.exists(path):
            entry["error"] = f"{name} already exists"
            return
        self.ctx.vfs.write_bytes(path, b"")
        self.ui.replace(self, "doc", path=path)

    def screen_main(self, entry: Entry) -> Screen:
        folder = self._dir(entry)
        names = sorted(self.ctx.vfs.listdir(folder), key=str.casefold)
        dirs = [n for n in names if self._is_dir(posixpath.join(folder, n))]
        files = [n for n in names if n not in dirs and not n.startswith(".")]
        rows: list[View] = []
        for n in dirs:
            rows.append(
                ListRow(
                    title=n,
                    subtitle="Folder",
                    rid="folder",
                    on_click=lambda n=n: self.ui.push(self, "main", dir=posixpath.join(folder, n)),
                )
            )
        for n in files:
            path = posixpath.join(folder, n)
            host = self.ctx.vfs.host_path(path)
            first = ""
            try:
                with host.open("rb") as fh:
                    first = fh.read(200).decode("utf-8", "replace").strip().split("\n", 1)[0]
                mtime = datetime.fromtimestamp(host.stat().st_mtime, self.ctx.clock.now().tzinfo)
                meta = mtime.strftime("%b %-d")
            except OSError:
                meta = ""
            rows.append(
                ListRow(
                    title=n,
                    subtitle=first or "Empty",
                    meta=meta,
                    rid="note",
                    on_click=lambda p=path: self.ui.push(self, "doc", path=p),
                )
            )
        if not rows:
            rows.append(self.empty_note("No notes yet"))
        title = "Notes" if folder == NOTES_DIR else posixpath.basename(folder)
        return Screen(
            self.toolbar(title, up=folder != NOTES_DIR),
            rows,
            fab=self.fab("New note", lambda: self.ui.push(self, "new", dir=folder)),
        )

    def screen_new(self, entry: Entry) -> Screen:
        body: list[View] = []
        if entry.get("error"):
            body.append(Text(text=entry["error"], rid="error", color=ERROR))
        body.append(
            self.field(
                entry, "name", "File name", hint="my-note.md", on_submit=lambda: self.create(entry)
            )
        )
        body.append(self.button("Create", lambda: self.create(entry), rid="create"))
        return Screen(self.toolbar("New note"), body)

    def screen_doc(self, entry: Entry) -> Screen:
        path = entry["args"]["path"]
        if not self.ctx.vfs.exists(path):
            return Screen(
                self.toolbar(posixpath.basename(path)), [Text(text="This file no longer exists.")]
            )
        original = self.read(path)
        if "saved" not in entry:
            entry["saved"] = original
        editor = self.field(
            entry, "editor", "", original, hint="Start writing…", multiline=True, min_lines=12
        )
        dirty = self.form(entry, "editor") != entry["saved"]
        title = posixpath.basename(path) + (" •" if dirty else "")
        if entry["args"].get("preview"):
            body: list[View] = []
            for line in self.form(entry, "editor").split("\n"):
                level = len(line) - len(line.lstrip("#"))
                if 0 < level <= 6 and line[level : level + 1] == " ":
                    body.append(
                        Text(
                            text=line[level + 1 :],
                            rid="heading",
                            bold=True,
                            size=max(16, 26 - 2 * level),
                            vpad=6,
                        )
                    )
                else:
                    body.append(Text(text=line, rid="line", vpad=2))
            toggle = ("Edit", lambda: entry["args"].pop("preview", None))
        else:
            body = [editor]

            def show_preview() -> None:
                entry["args"]["preview"] = True
                entry["focus"] = None

            toggle = ("Preview", show_preview)

        ask_delete, dialog = self.delete_file_dialog(entry, path, "Delete note?")
        return Screen(
            self.toolbar(
                title,
                actions=[toggle, ("Save", lambda: self.save(entry)), ("Delete", ask_delete)],
            ),
            body,
            dialog=dialog,
        )
