"""Seeding a real VM in one round trip and reading it back, hostile text included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from linux_vm.errors import LinuxInputError, SeedMismatch
from linux_vm.readers import crontab, maildir_messages, sqlite_rows
from linux_vm.seeding import (
    BashHistoryRecord,
    CrontabRecord,
    FileRecord,
    HistoryEntry,
    LinuxSeedPlan,
    MailRecord,
    SqliteRecord,
    SqliteTable,
)

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]

HOSTILE = "'\"$`\\\n%!*;&|<>(){}[]#~ \t 日本語テキスト 中文 한국어 😀🎉👩‍💻 ünïcödé"
WHEN = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def hostile_text(min_size: int = 0) -> st.SearchStrategy[str]:
    specials = st.sampled_from([*"'\"$`\\\n%", "😀", "日本", "中文", "👩‍💻", "$(id)", "`id`"])
    return st.lists(
        st.one_of(
            specials,
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
                max_size=8,
            ),
        ),
        min_size=min_size,
        max_size=12,
    ).map("".join)


def test_every_record_kind_seeds_and_reads_back(laptop):
    plan = LinuxSeedPlan(
        records=[
            FileRecord(
                path="~/notes/todo.md",
                content=f"# todo\n{HOSTILE}\n",
                mode=0o640,
                mtime=WHEN - timedelta(days=3),
            ),
            FileRecord(path="/opt/shared/root-only.txt", content=b"\x00\x01\xff", owner="root"),
            MailRecord(
                sender="Alice Ünal <alice@example.org>",
                to=["user@laptop.local"],
                subject=f"Re: dîner 🍷 {HOSTILE.splitlines()[0]}",
                body=f"Bonjour,\n{HOSTILE}\n",
                date=WHEN - timedelta(hours=5),
                seen=False,
            ),
            MailRecord(
                folder=".Archive",
                sender="bank@example.org",
                to=["user@laptop.local"],
                subject="statement",
                body="no trailing newline\r\nand CRLF",
                date=WHEN - timedelta(days=40),
                flagged=True,
            ),
            BashHistoryRecord(
                entries=[
                    HistoryEntry(at=WHEN - timedelta(minutes=2), command="cd ~/notes"),
                    HistoryEntry(at=WHEN - timedelta(minutes=1), command=f"echo {HOSTILE!r}"),
                ]
            ),
            CrontabRecord(
                content=f"# backup {HOSTILE.splitlines()[0]}\n"
                "30 2 * * * tar czf /tmp/b.tgz ~/notes\n"
            ),
            SqliteRecord(
                path="~/.local/share/app/app.db",
                schema_sql=[
                    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, raw BLOB)"
                ],
                tables=[
                    SqliteTable(
                        table="items",
                        columns=["id", "name", "price", "raw"],
                        rows=[[1, HOSTILE, 9.99, b"\x00\xff"], [2, None, -1.5, None]],
                    )
                ],
            ),
        ]
    )
    digest = laptop.seed(plan)
    assert digest["records"] == 7 and len(digest["sha256"]) == 64

    assert laptop.read_file("/home/user/notes/todo.md") == f"# todo\n{HOSTILE}\n".encode()
    r = laptop.exec(
        "stat -c '%a %U %Y' ~/notes/todo.md ~/notes; stat -c '%U' /opt/shared/root-only.txt"
    )
    todo, notes_dir, root_file = r.stdout.splitlines()
    assert todo == f"640 user {int((WHEN - timedelta(days=3)).timestamp())}"
    assert notes_dir.split()[1] == "user" and root_file == "root"

    inbox = maildir_messages(laptop)
    assert len(inbox) == 1 and not inbox[0]["seen"] and inbox[0]["file"].startswith("new/")
    assert inbox[0]["body"] == f"Bonjour,\n{HOSTILE}\n"
    assert inbox[0]["subject"].startswith("Re: dîner 🍷 ")
    archive = maildir_messages(laptop, folder=".Archive")
    assert archive[0]["body"] == "no trailing newline\r\nand CRLF" and archive[0]["flagged"]
    # mblaze, the guest's own mail reader, sees the same inbox.
    assert "dîner" in laptop.exec("mlist -N ~/Maildir | mscan -f '%s'", timeout=30).stdout

    history = laptop.read_file("/home/user/.bash_history").decode()
    assert history.startswith(f"#{int((WHEN - timedelta(minutes=2)).timestamp())}\ncd ~/notes\n")
    assert crontab(laptop).endswith("30 2 * * * tar czf /tmp/b.tgz ~/notes\n")

    rows = sqlite_rows(
        laptop, "/home/user/.local/share/app/app.db", "SELECT * FROM items ORDER BY id"
    )
    assert rows == [[1, HOSTILE, 9.99, b"\x00\xff"], [2, None, -1.5, None]]


def test_a_change_after_seeding_is_named_by_verification(laptop):
    plan = [
        {"kind": "file", "path": "~/verify/a.txt", "content": "one\n"},
        {"kind": "file", "path": "~/verify/b.txt", "content": "two\n"},
    ]
    laptop.seed(plan)
    laptop.exec("echo tampered > ~/verify/b.txt")
    with pytest.raises(SeedMismatch, match=r"record #1 \(file ~/verify/b.txt\).*sha256"):
        laptop.verify_seed(plan)


def test_bad_plans_are_input_errors(laptop):
    with pytest.raises(LinuxInputError, match="no user 'nobody-here'"):
        laptop.seed([{"kind": "file", "path": "/tmp/x", "content": "x", "owner": "nobody-here"}])
    with pytest.raises(LinuxInputError, match="invalid Linux seed plan"):
        laptop.seed([{"kind": "file", "path": "relative/x", "content": "x"}])
    with pytest.raises(LinuxInputError, match="crontab refused"):
        laptop.seed([{"kind": "crontab", "content": "this is not a cron line\n"}])


# Each example is a real seed + read-back on the VM: few examples, no shrinking.
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    database=None,
)
@given(text=hostile_text(), line=hostile_text().map(lambda s: " ".join(s.splitlines())))
def test_hostile_text_round_trips_byte_for_byte(laptop, text, line):
    name = f"~/hostile/文件 $x `y` '{len(text)}' 🎉.txt"
    plan = LinuxSeedPlan(
        records=[
            FileRecord(path=name, content=text),
            MailRecord(
                sender="a@example.org",
                to=["user@laptop"],
                subject=line or "-",
                body=text,
                date=WHEN,
                folder=".Hostile",
            ),
            SqliteRecord(
                path="~/hostile/h.db",
                schema_sql=["CREATE TABLE IF NOT EXISTS t (v TEXT)", "DELETE FROM t"],
                tables=[SqliteTable(table="t", columns=["v"], rows=[[text], [line]])],
            ),
        ]
    )
    laptop.seed(plan)
    path = "/home/user/hostile/" + name.removeprefix("~/hostile/")
    assert laptop.read_file(path) == text.encode()
    box = [
        m
        for m in maildir_messages(laptop, folder=".Hostile")
        if m["raw"].find(text.encode()) >= 0 or True
    ]
    assert any(m["body"] == text and m["subject"] == (line or "-").strip(" \t") for m in box)
    assert sqlite_rows(laptop, "/home/user/hostile/h.db", "SELECT v FROM t") == [[text], [line]]
