"""Files (DocumentsUI): browse shared storage, see a file's details, delete it."""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ListRow, Text

ROOT = "/sdcard"
TEXT_PREVIEW = 4096


def human(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return str(size)


class FilesApp(App):
    package = "com.android.documentsui"
    label = "Files"
    color = (25, 103, 210)
    apk = "/system/priv-app/DocumentsUIGoogle/DocumentsUIGoogle.apk"
    item_screens: ClassVar[frozenset[str]] = frozenset({"file"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".files.FilesActivity",
        "file": ".files.FilesActivity",
    }

    def _stamp(self, mtime: float) -> str:
        return datetime.fromtimestamp(mtime, self.ctx.clock.now().tzinfo).strftime(
            "%b %-d, %Y %H:%M"
        )

    def screen_main(self, entry: Entry) -> Screen:
        folder = entry["args"].get("path") or ROOT
        vfs = self.ctx.vfs
        rows: list[View] = []
        try:
            names = sorted(vfs.listdir(folder), key=str.casefold)
        except OSError:
            names = []
        entries = []
        for n in names:
            host = vfs.host_path(posixpath.join(folder, n))
            try:
                st = host.stat()
            except OSError:
                continue
            entries.append((not host.is_dir(), n.casefold(), n, st))
        for is_file, _, n, st in sorted(entries):
            path = posixpath.join(folder, n)
            if is_file:
                rows.append(
                    ListRow(
                        title=n,
                        subtitle=f"{human(st.st_size)} · {self._stamp(st.st_mtime)}",
                        rid="item",
                        on_click=lambda p=path: self.ui.push(self, "file", path=p),
                    )
                )
            else:
                rows.append(
                    ListRow(
                        title=n,
                        subtitle="Folder",
                        rid="dir",
                        on_click=lambda p=path: self.ui.push(self, "main", path=p),
                    )
                )
        if not rows:
            rows.append(self.empty_note("No items"))
        title = "Internal storage" if folder == ROOT else posixpath.basename(folder)
        return Screen(self.toolbar(title, up=folder != ROOT), rows)

    def screen_file(self, entry: Entry) -> Screen:
        path = entry["args"]["path"]
        host = self.ctx.vfs.host_path(path)
        if not host.is_file():
            return Screen(
                self.toolbar(posixpath.basename(path)), [Text(text="This file no longer exists.")]
            )
        st = host.stat()
        body: list[View] = [
            ListRow(title="Name", subtitle=posixpath.basename(path), rid="name"),
            ListRow(title="Size", subtitle=human(st.st_size), rid="size"),
            ListRow(title="Modified", subtitle=self._stamp(st.st_mtime), rid="modified"),
            ListRow(title="Location", subtitle=posixpath.dirname(path), rid="location"),
        ]
        with host.open("rb") as fh:
            head = fh.read(TEXT_PREVIEW)
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\0" not in text:
            body.append(
                Text(
                    text=text + ("…" if st.st_size > TEXT_PREVIEW else ""),
                    rid="preview",
                    size=14,
                    color=(60, 64, 67),
                )
            )

        ask_delete, dialog = self.delete_file_dialog(entry, path, "Delete file?")
        return Screen(
            self.toolbar(posixpath.basename(path), actions=[("Delete", ask_delete)]),
            body,
            dialog=dialog,
        )
