"""The file formats compiled events are written in, each with the reader that undoes it.

Every format here is one a person's tools already read (todo.txt, a markdown
checklist, a bank CSV export, a camera JPEG, a SQLite chat log), and every
writer has a parser beside it so tests can check that text comes back byte
for byte, including newlines inside a single todo (escaped as ``\\n``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from PIL import Image, ImageDraw

# -- escaping for one-line formats ---------------------------------------------------

_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def escape_line(text: str) -> str:
    """One line for ``text``: backslash, CR and LF become ``\\\\``, ``\\r`` and ``\\n``."""
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def unescape_line(text: str) -> str:
    return _UNESCAPE.sub(lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), text)


# Line boundaries besides CR and LF that str.splitlines (and some editors) honour.
_OTHER_BREAKS = frozenset("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


# -- todos ---------------------------------------------------------------------------


@dataclass
class Todo:
    """A todo's final state: its text, when it was added, when (if) it was done, its due day."""

    todo_id: str
    text: str
    created: date
    done: date | None = None
    due: date | None = None


def todo_txt(todos: list[Todo]) -> bytes:
    """``todo.txt`` format: ``x DONE CREATED text due:YYYY-MM-DD``, one task per line."""
    lines = []
    for t in todos:
        head = f"x {t.done.isoformat()} " if t.done else ""
        due = f" due:{t.due.isoformat()}" if t.due else ""
        lines.append(f"{head}{t.created.isoformat()} {_todo_text(t.text)}{due}\n")
    return "".join(lines).encode("utf-8")


_TXT_LINE = re.compile(
    r"^(?:x (?P<done>\d{4}-\d{2}-\d{2}) )?(?P<created>\d{4}-\d{2}-\d{2}) (?P<text>.*?)"
    r"(?: due:(?P<due>\d{4}-\d{2}-\d{2}))?$",
    re.DOTALL,
)


def parse_todo_txt(data: bytes) -> list[Todo]:
    """The todos of a ``todo.txt`` written by :func:`todo_txt` (ids are the line numbers)."""
    out = []
    for n, line in enumerate(data.decode("utf-8").split("\n"), 1):
        if not line:
            continue
        m = _TXT_LINE.match(line)
        if m is None:
            raise ValueError(f"todo.txt line {n} is not a todo: {line!r}")
        out.append(
            Todo(
                str(n),
                _unescape_todo(m["text"]),
                date.fromisoformat(m["created"]),
                date.fromisoformat(m["done"]) if m["done"] else None,
                date.fromisoformat(m["due"]) if m["due"] else None,
            )
        )
    return out


def _todo_text(text: str) -> str:
    # Every character a line reader splits on is escaped, so one todo stays one line.
    out = "".join(f"\\u{ord(c):04x}" if c in _OTHER_BREAKS else c for c in escape_line(text))
    # Text that ends like the due suffix of either format gets that suffix escaped.
    if re.search(r"(^| )due:\d{4}-\d{2}-\d{2}$", out):
        out = out[:-14] + "due\\:" + out[-10:]
    if re.search(r" \(due \d{4}-\d{2}-\d{2}\)$", out):
        out = out[:-16] + "\\(" + out[-15:]
    return out


def todo_markdown(todos: list[Todo]) -> bytes:
    """A markdown checklist, as a notes app shows it: ``- [ ] text (due YYYY-MM-DD)``."""
    lines = ["# To do\n", "\n"]
    for t in todos:
        box = "x" if t.done else " "
        due = f" (due {t.due.isoformat()})" if t.due else ""
        lines.append(f"- [{box}] {_todo_text(t.text)}{due}\n")
    return "".join(lines).encode("utf-8")


_MD_LINE = re.compile(
    r"^- \[(?P<box>[ x])\] (?P<text>.*?)(?: \(due (?P<due>\d{4}-\d{2}-\d{2})\))?$"
)


def parse_todo_markdown(data: bytes) -> list[tuple[bool, str, date | None]]:
    """``(done, text, due)`` for each checklist line of :func:`todo_markdown`'s output."""
    out = []
    for line in data.decode("utf-8").split("\n"):
        m = _MD_LINE.match(line)
        if m:
            due = date.fromisoformat(m["due"]) if m["due"] else None
            out.append((m["box"] == "x", _unescape_todo(m["text"]), due))
    return out


def _unescape_todo(text: str) -> str:
    text = re.sub(r"(?<!\\)((?:\\\\)*)\\u([0-9a-f]{4})", lambda m: m[1] + chr(int(m[2], 16)), text)
    return unescape_line(text)


# -- bank CSV --------------------------------------------------------------------------

BANK_COLUMNS = ["date", "amount", "currency", "counterparty", "reference", "balance"]


def bank_csv(rows: list[tuple[datetime, Decimal, str, str, str, Decimal | None]]) -> bytes:
    """A bank's CSV export (RFC 4180 quoting, so commas, quotes and newlines survive)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(BANK_COLUMNS)
    for when, amount, currency, counterparty, reference, balance in rows:
        w.writerow(
            [
                when.isoformat(),
                format(amount, "f"),
                currency,
                counterparty,
                reference,
                "" if balance is None else format(balance, "f"),
            ]
        )
    return buf.getvalue().encode("utf-8")


def parse_bank_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


# -- photos ----------------------------------------------------------------------------

PHOTO_MAX_SIDE = 320  # keeps a 128-photo stream near 1 MB; aspect ratio is kept
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME, DATETIME_ORIGINAL, OFFSET_ORIGINAL = 0x0132, 0x9003, 0x9011
MAKE, MODEL = 0x010F, 0x0110


def photo_jpeg(
    subject: str,
    taken: datetime,
    width: int,
    height: int,
    lat: float | None = None,
    lon: float | None = None,
) -> bytes:
    """A small generated picture of ``subject`` whose EXIF says when (and where) it was taken.

    ``taken`` is local time with its offset (EXIF keeps the wall clock and, since
    2.31, the offset). The picture is a deterministic function of the inputs.
    """
    scale = min(1.0, PHOTO_MAX_SIDE / max(width, height))
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    seed = hashlib.sha256(subject.encode("utf-8")).digest()
    img = Image.new("RGB", size, tuple(seed[0:3]))
    draw = ImageDraw.Draw(img)
    for i in range(4):
        b = seed[3 + i * 7 : 10 + i * 7]
        x0, y0 = b[0] * size[0] // 256, b[1] * size[1] // 256
        x1, y1 = x0 + 8 + b[2] * size[0] // 512, y0 + 8 + b[3] * size[1] // 512
        draw.ellipse((x0, y0, x1, y1), fill=(b[4], b[5], b[6]))
    exif = Image.Exif()
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif[MAKE] = "clawrig"
    exif[MODEL] = "virtual camera"
    exif[DATETIME] = stamp
    sub = exif.get_ifd(EXIF_IFD)
    sub[DATETIME_ORIGINAL] = stamp
    offset = taken.strftime("%z")
    if offset:
        sub[OFFSET_ORIGINAL] = f"{offset[:3]}:{offset[3:]}"
    if lat is not None and lon is not None:
        gps = exif.get_ifd(GPS_IFD)
        gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
        gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70, exif=exif.tobytes())
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60, 2)
    return (float(deg), float(minutes), seconds)


def photo_exif(data: bytes) -> dict[str, object]:
    """What a gallery reads from a photo: size, EXIF times and GPS (decimal degrees)."""
    img = Image.open(io.BytesIO(data))
    exif = img.getexif()
    sub = exif.get_ifd(EXIF_IFD)
    gps = exif.get_ifd(GPS_IFD)
    out: dict[str, object] = {
        "size": img.size,
        "format": img.format,
        "datetime_original": sub.get(DATETIME_ORIGINAL),
        "offset_original": sub.get(OFFSET_ORIGINAL),
    }
    if gps:
        lat = sum(float(v) / 60**i for i, v in enumerate(gps[2])) * (1 if gps[1] == "N" else -1)
        lon = sum(float(v) / 60**i for i, v in enumerate(gps[4])) * (1 if gps[3] == "E" else -1)
        out["gps"] = (lat, lon)
    return out


# -- file names --------------------------------------------------------------------------


def slug(text: str, fallback: str = "item") -> str:
    """A file-name-safe stem for ``text`` (letters, digits, ``-``), stable and short."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40]
    if not s or s != text:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        s = f"{s or fallback}-{digest}"
    return s
