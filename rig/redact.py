"""Keep secrets out of everything an episode writes.

Known secret values (API keys from the environment and the config) are
replaced wherever they appear, also base64-encoded (at any alignment, standard
and URL-safe alphabets); common token shapes are masked even when the value was
never registered, because agents echo what they read. Files that servers and
devices wrote themselves into a record (SQLite databases, mail, logs) are
scrubbed in place by :meth:`Redactor.scrub_tree`. Pixels are not: a secret on
the screen stays in the screenshots.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MASK = "[REDACTED]"
SECRET_ENV_HINTS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD")
_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),  # OpenAI-style keys
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
]


_SQLITE_MAGIC = b"SQLite format 3\x00"
_MIN_B64 = 8  # shorter base64 fragments would mask ordinary text
_MAX_TEXT_FILE = 64 * 1024 * 1024  # larger files are disk images and the like, not text


def base64_forms(secret: str) -> set[str]:
    """Substrings that every base64 encoding of a text containing ``secret`` contains.

    Base64 encodes 3 bytes as 4 characters, so the secret's encoding depends on its
    offset modulo 3 in the encoded data: for each offset, the characters of the
    groups made of secret bytes only. Both the standard and the URL-safe alphabet.
    """
    raw = secret.encode("utf-8")
    forms = set()
    for shift in range(3):
        data = b"\0" * shift + raw
        full = len(data) // 3 * 4
        core = base64.b64encode(data)[4 if shift else 0 : full].decode("ascii")
        if len(core) >= _MIN_B64:
            forms.add(core)
            forms.add(core.replace("+", "-").replace("/", "_"))
    return forms


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._encoded: set[str] = set()
        self._hint: re.Pattern[str] | None = None
        for s in secrets:
            self.add(s)

    @classmethod
    def from_environment(cls, extra: Iterable[str] = ()) -> Redactor:
        values = [
            v
            for k, v in os.environ.items()
            if any(h in k.upper() for h in SECRET_ENV_HINTS) and len(v) >= 8
        ]
        return cls([*values, *extra])

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 6:
            self._secrets.add(secret)
            self._encoded |= base64_forms(secret)
            self._hint = None

    def _may_hold(self) -> re.Pattern[str]:
        """One pattern that finds anything :meth:`text` would mask: most strings of a
        record (a state snapshot has thousands) hold none, and one search is cheaper than
        a replace per secret and a substitution per token shape."""
        if self._hint is None:
            literals = [re.escape(x) for x in sorted(self._secrets | self._encoded)]
            shapes = [
                f"(?i:{p.pattern[4:]})" if p.pattern.startswith("(?i)") else f"(?:{p.pattern})"
                for p in _PATTERNS
            ]
            self._hint = re.compile("|".join([*literals, *shapes]))
        return self._hint

    def text(self, value: str) -> str:
        if not self._may_hold().search(value):
            return value
        return self._mask_each(value)

    def _mask_each(self, value: str) -> str:
        """Every secret, every base64 form, every token shape replaced in turn."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            value = value.replace(secret, MASK)
        for form in sorted(self._encoded, key=len, reverse=True):
            value = value.replace(form, MASK)
        for pattern in _PATTERNS:
            value = pattern.sub(lambda m: f"{m.group(1)} {MASK}" if m.lastindex else MASK, value)
        return value

    def data(self, value: Any) -> Any:
        """Redact every string inside JSON-like data (dict keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    # -- files written by others ------------------------------------------------
    def scrub_tree(self, root: Path) -> list[Path]:
        """Redact every SQLite database and text file under ``root`` in place.

        Databases are rewritten (``VACUUM``) so no old page keeps the secret; other
        binary files (images, disk images) are left alone. Returns what changed.
        """
        changed = []
        if not root.is_dir():
            return changed
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            with contextlib.suppress(OSError, sqlite3.Error):
                if self._scrub_file(path):
                    changed.append(path)
        return changed

    def _scrub_file(self, path: Path) -> bool:
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head == _SQLITE_MAGIC:
            return self._scrub_database(path)
        if path.name.endswith(("-wal", "-journal", "-shm")):
            return False  # folded into (or dropped with) the database itself
        if path.stat().st_size > _MAX_TEXT_FILE or b"\0" in head:
            return False
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        clean = self.text(text)
        if clean == text:
            return False
        path.write_text(clean, encoding="utf-8")
        return True

    def _scrub_database(self, path: Path) -> bool:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.create_function("redact", 1, self._cell, deterministic=True)
            changes = 0
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ]
            for table in tables:
                q = '"' + table.replace('"', '""') + '"'
                for col in [r[1] for r in conn.execute(f"PRAGMA table_info({q})")]:
                    c = '"' + col.replace('"', '""') + '"'
                    changes += conn.execute(
                        f"UPDATE {q} SET {c} = redact({c}) "
                        f"WHERE typeof({c}) IN ('text', 'blob') AND redact({c}) IS NOT {c}"
                    ).rowcount
            if changes:
                conn.execute("VACUUM")  # old values live on in free pages otherwise
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return changes > 0
        finally:
            conn.close()

    def _cell(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            try:
                return self.text(value.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                return value
        return value
