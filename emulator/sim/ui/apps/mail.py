"""Email: folders, a folder's messages, one message with its attachments, compose, search.

The AOSP Email app's identity (``com.android.email``) over the phone's one
IMAP/SMTP account (:mod:`emulator.sim.mailstore`). Lists show the local copy;
opening the app, pulling a list down and every action bring it in step with
the server. A server that cannot be reached shows as a line of text, as a
real client shows a banner; it never crashes the app.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from emulator.sim.mailstore import (
    FOLDERS,
    Attachment,
    MailError,
    MailStore,
    attachments,
    guess_type,
)
from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.apps.contacts import avatar
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ButtonRow, ListRow, Text, short_time

DOWNLOADS = "/sdcard/Download"
SOFT = (95, 99, 104)
ERROR = (179, 38, 30)


def _quoted(row: Any) -> str:
    lines = str(row["body"] or "").split("\n")
    who = row["fromName"] or row["fromList"] or ""
    return "\n\n" + f"{who} wrote:\n" + "\n".join("> " + line for line in lines)


def _prefixed(prefix: str, subject: str) -> str:
    return subject if subject.lower().startswith(prefix.lower()) else f"{prefix} {subject}"


class MailApp(App):
    package = "com.android.email"
    label = "Email"
    color = (25, 103, 210)
    apk = "/system/app/Email/Email.apk"
    item_screens: ClassVar[frozenset[str]] = frozenset({"message", "compose", "attach"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".activity.Welcome",
        "folders": ".activity.FolderListActivity",
        "message": ".activity.MessageViewActivity",
        "compose": ".activity.ComposeActivityEmail",
        "attach": ".activity.AttachmentPickerActivity",
        "search": ".activity.SearchActivity",
    }

    @property
    def has_account(self) -> bool:
        sync = self.ctx.sync
        return sync is not None and sync.accounts.mail is not None

    @property
    def store(self) -> MailStore:
        return self.ctx.sync.mail  # type: ignore[attr-defined, no-any-return]

    # -- server round trips, errors shown not raised ---------------------------------------
    def _try(self, entry: Entry, work: Callable[[], Any]) -> bool:
        try:
            work()
        except MailError as exc:
            entry["args"]["error"] = str(exc)
            return False
        entry["args"].pop("error", None)
        return True

    def refresh(self, entry: Entry) -> None:
        self._try(entry, self.store.sync)

    def on_start(self, entry: Entry) -> None:
        """Opening the app checks for new mail, as a real client does on resume."""
        if self.has_account:
            self.refresh(entry)

    def when(self, ms: Any) -> str:
        return short_time(self.ctx.clock.now(), ms)

    def _banner(self, entry: Entry) -> list[View]:
        error = entry["args"].get("error")
        return [Text(text=error, rid="error_banner", color=ERROR, size=14)] if error else []

    def _row(self, row: Any, show_box: bool = False) -> ListRow:
        unread = "\\Seen" not in (row["flags"] or "")
        starred = "\\Flagged" in (row["flags"] or "")
        subject = row["subject"] or "(No subject)"
        subtitle = f"{subject} — {row['snippet'] or ''}".strip(" —")
        meta = self.when(row["timeStamp"])
        if show_box:
            meta = f"{row['mailbox']} · {meta}"
        if starred:
            meta = "★ " + meta
        if row["flagAttachment"]:
            meta = "📎 " + meta
        who = row["fromName"] or row["fromList"] or "(Unknown sender)"
        if row["mailbox"] in ("Sent", "Drafts"):
            who = "To: " + (row["toList"] or "")
        return ListRow(
            title=who,
            subtitle=subtitle,
            meta=meta,
            bold=unread,
            avatar=avatar(row["fromList"]),
            rid="message_row",
            subtitle_lines=2,
            on_click=lambda mid=row["_id"]: self.open(mid),
        )

    def open_search(self) -> None:
        self.ui.push(self, "search")["focus"] = "query"  # the keyboard comes up at once

    def open(self, mid: int) -> None:
        entry = self.ui.push(self, "message", mid=mid)
        row = self.store.message(mid)
        if row is not None and "\\Seen" not in (row["flags"] or ""):
            self._try(entry, lambda: self.store.store_flag(mid, "\\Seen", True))

    # -- screens ----------------------------------------------------------------------------
    def screen_main(self, entry: Entry) -> Screen:
        box = entry["args"].get("mailbox") or "INBOX"
        title = "Inbox" if box == "INBOX" else box
        body: list[View] = self._banner(entry)
        if not self.has_account:
            body.append(self.empty_note("No email account is set up", rid="no_account"))
            return Screen(self.toolbar("Email", up=False), body)
        rows = [self._row(r) for r in self.store.messages(box)]
        body += rows or [self.empty_note(f"No messages in {title}")]
        screen = Screen(
            self.toolbar(
                title,
                up=False,
                actions=[
                    ("Search", self.open_search),
                    ("Folders", lambda: self.ui.push(self, "folders")),
                ],
            ),
            body,
            fab=self.fab("Compose", lambda: self.ui.push(self, "compose")),
        )
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def screen_folders(self, entry: Entry) -> Screen:
        unread = self.store.unread()
        rows: list[View] = []
        for box in FOLDERS:
            count = unread.get(box, 0)

            def go(box: str = box) -> None:
                self.ui.stack.pop()
                main = self.ui.top
                if main.get("pkg") == self.package and main.get("screen") == "main":
                    main["args"]["mailbox"] = box
                    main["scroll"] = None
                else:
                    self.ui.push(self, "main", mailbox=box)

            rows.append(
                ListRow(
                    title="Inbox" if box == "INBOX" else box,
                    meta=str(count) if count else "",
                    bold=bool(count),
                    rid="folder",
                    on_click=go,
                )
            )
        return Screen(self.toolbar("Folders"), rows)

    def screen_message(self, entry: Entry) -> Screen:
        mid = entry["args"]["mid"]
        row = self.store.message(mid)
        if row is None:
            return Screen(self.toolbar("Email"), [self.empty_note("This message is gone")])
        flags = row["flags"] or ""
        starred = "\\Flagged" in flags
        when = datetime.fromtimestamp((row["timeStamp"] or 0) / 1000, self.ctx.clock.now().tzinfo)
        body: list[View] = self._banner(entry)
        body += [
            Text(text=row["subject"] or "(No subject)", rid="subject", size=22, bold=True),
            Text(
                text=f"From: {row['fromName']} <{row['fromList']}>"
                if row["fromName"] != row["fromList"]
                else f"From: {row['fromList']}",
                rid="from",
                size=14,
            ),
            Text(text=f"To: {row['toList'] or ''}", rid="to", size=14, color=SOFT, vpad=2),
        ]
        if row["ccList"]:
            body.append(Text(text=f"Cc: {row['ccList']}", rid="cc", size=14, color=SOFT, vpad=2))
        body.append(Text(text=when.strftime("%a %d %b %Y %H:%M"), rid="date", size=14, color=SOFT))
        body.append(Text(text=(row["body"] or "").rstrip("\n"), rid="body", vpad=16))
        for index, att in enumerate(attachments(row["raw"] or b"")):
            body.append(
                ListRow(
                    title=att.name,
                    subtitle=f"{att.mime} · {len(att.data)} bytes · Tap to save to Download",
                    rid="attachment",
                    on_click=lambda i=index: self.save_attachment(entry, mid, i),
                )
            )
        saved = entry["args"].get("saved")
        if saved:
            body.append(Text(text=f"Saved to {saved}", rid="saved", size=14, color=SOFT))
        body.append(
            ButtonRow(
                children=[
                    self.button("Reply", lambda: self.compose_from(mid, "reply"), rid="reply"),
                    self.button(
                        "Reply all", lambda: self.compose_from(mid, "reply_all"), rid="reply_all"
                    ),
                    self.button(
                        "Forward", lambda: self.compose_from(mid, "forward"), rid="forward"
                    ),
                ]
            )
        )

        def act(work: Callable[[], Any], leave: bool) -> Callable[[], None]:
            def run() -> None:
                if self._try(entry, work) and leave:
                    self.ui.back()

            return run

        ask_delete, dialog = self.delete_dialog(
            entry,
            "Delete this message?",
            row["subject"] or "(No subject)",
            act(lambda: self.store.delete(mid), True),
        )
        actions = [
            (
                "Unstar" if starred else "Star",
                act(lambda: self.store.store_flag(mid, "\\Flagged", not starred), False),
            ),
            ("Unread", act(lambda: self.store.store_flag(mid, "\\Seen", False), True)),
            ("Delete", ask_delete),
        ]
        if row["mailbox"] != "Archive":
            actions.insert(0, ("Archive", act(lambda: self.store.move(mid, "Archive"), True)))
        return Screen(self.toolbar("", actions=actions), body, dialog=dialog)

    def save_attachment(self, entry: Entry, mid: int, index: int) -> None:
        row = self.store.message(mid)
        files = attachments(row["raw"] or b"") if row is not None else []
        if index >= len(files):
            return
        name = posixpath.basename(files[index].name.replace("\\", "/")) or "attachment"
        path = posixpath.join(DOWNLOADS, name)
        self.ctx.vfs.mkdir(DOWNLOADS)
        self.ctx.vfs.write_bytes(path, files[index].data)
        entry["args"]["saved"] = path

    def compose_from(self, mid: int, how: str) -> None:
        row = self.store.message(mid)
        if row is None:
            return
        me = (self.store.accounts.mail.address if self.store.accounts.mail else "").lower()
        form: dict[str, str] = {"body": _quoted(row)}
        if how == "forward":
            form.update(to="", cc="", subject=_prefixed("Fwd:", row["subject"] or ""))
            header = (
                f"\n\n---------- Forwarded message ---------\nFrom: {row['fromList']}\n"
                f"Subject: {row['subject'] or ''}\nTo: {row['toList'] or ''}\n\n"
            )
            form["body"] = header + (row["body"] or "")
            carried = [f"{mid}:{i}" for i in range(len(attachments(row["raw"] or b"")))]
            reply_to = None
        else:
            sender = row["fromList"] or ""
            if row["mailbox"] == "Sent":
                sender = row["toList"] or ""
            form.update(to=sender, cc="", subject=_prefixed("Re:", row["subject"] or ""))
            if how == "reply_all":
                others = [
                    a.strip()
                    for a in f"{row['toList'] or ''},{row['ccList'] or ''}".split(",")
                    if a.strip() and a.strip().lower() not in (me, sender.lower())
                ]
                form["cc"] = ", ".join(others)
            carried = []
            reply_to = mid
        entry = self.ui.push(self, "compose", reply_to=reply_to, carried=carried, files=[])
        entry["form"] = form
        # The caret waits above the quote (a forward first needs a recipient), as clients do.
        entry["focus"], entry["caret"] = ("to" if how == "forward" else "body"), 0

    def screen_compose(self, entry: Entry) -> Screen:
        args = entry["args"]
        body: list[View] = self._banner(entry)
        body += [
            self.field(entry, "to", "To", hint="To"),
            self.field(entry, "cc", "Cc", hint="Cc"),
            self.field(entry, "subject", "Subject", hint="Subject"),
            self.field(
                entry, "body", "Compose email", hint="Compose email", multiline=True, min_lines=6
            ),
        ]
        for label in self._attachment_names(args):
            body.append(ListRow(title=label, subtitle="Attachment", rid="attachment"))
        body.append(
            self.button(
                "Attach file",
                lambda: self.ui.push(self, "attach", to=len(self.ui.stack) - 1),
                rid="attach",
                style="outlined",
            )
        )
        return Screen(self.toolbar("Compose", actions=[("Send", lambda: self.send(entry))]), body)

    def _attachment_names(self, args: dict[str, Any]) -> list[str]:
        names = []
        for ref in args.get("carried") or []:
            mid, _, index = str(ref).partition(":")
            row = self.store.message(int(mid))
            files = attachments(row["raw"] or b"") if row is not None else []
            if int(index) < len(files):
                names.append(files[int(index)].name)
        names += [posixpath.basename(p) for p in args.get("files") or []]
        return names

    def _attachments(self, args: dict[str, Any]) -> list[Attachment]:
        out = []
        for ref in args.get("carried") or []:
            mid, _, index = str(ref).partition(":")
            row = self.store.message(int(mid))
            files = attachments(row["raw"] or b"") if row is not None else []
            if int(index) < len(files):
                out.append(files[int(index)])
        for path in args.get("files") or []:
            name = posixpath.basename(path)
            out.append(Attachment(name, guess_type(name), self.ctx.vfs.read_bytes(path)))
        return out

    def send(self, entry: Entry) -> None:
        args = entry["args"]

        def work() -> None:
            self.store.send(
                to=self.form(entry, "to"),
                cc=self.form(entry, "cc"),
                subject=self.form(entry, "subject"),
                body=self.form(entry, "body"),
                files=self._attachments(args),
                reply_to=args.get("reply_to"),
            )

        if self._try(entry, work):
            self.ui.back()

    def screen_attach(self, entry: Entry) -> Screen:
        rows: list[View] = []
        try:
            names = sorted(self.ctx.vfs.listdir(DOWNLOADS))
        except OSError:
            names = []
        target = int(entry["args"].get("to", -1))

        def pick(path: str) -> None:
            self.ui.stack.pop()
            if (
                0 <= target < len(self.ui.stack)
                and self.ui.stack[target].get("screen") == "compose"
            ):
                files = self.ui.stack[target]["args"].setdefault("files", [])
                if path not in files:
                    files.append(path)

        for name in names:
            path = posixpath.join(DOWNLOADS, name)
            rows.append(
                ListRow(title=name, subtitle=DOWNLOADS, rid="file", on_click=lambda p=path: pick(p))
            )
        return Screen(
            self.toolbar("Attach from Download"), rows or [self.empty_note("No files in Download")]
        )

    def screen_search(self, entry: Entry) -> Screen:
        body: list[View] = [self.field(entry, "query", "Search", hint="Search mail")]
        query = self.form(entry, "query")
        if query.strip():
            found = self.store.search(query)
            body += [self._row(r, show_box=True) for r in found] or [self.empty_note("No results")]
        return Screen(self.toolbar("Search"), body)
