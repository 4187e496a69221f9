"""Text and shapes on a Pillow image, with real fonts and per-character fallback.

DejaVu Sans covers Latin, Greek, Cyrillic and many symbols; Noto Sans CJK
covers Chinese, Japanese and Korean. A character DejaVu lacks is drawn with
Noto when Noto has it; anything neither has (most emoji) is drawn as DejaVu's
"missing glyph" box, which is what a phone without the font would show.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LATIN_BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

Color = tuple[int, int, int]
Box = tuple[int, int, int, int]

INK: Color = (32, 33, 36)
INK_SOFT: Color = (95, 99, 104)
WHITE: Color = (255, 255, 255)
DIVIDER: Color = (224, 224, 224)


@functools.lru_cache(maxsize=64)
def font(size: int, bold: bool = False, cjk: bool = False) -> ImageFont.FreeTypeFont:
    """A cached font object; BASIC layout keeps measuring cheap and predictable."""
    path = CJK_FONT if cjk else (LATIN_BOLD_FONT if bold else LATIN_FONT)
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


_PROBE_SIZE = 24


@functools.lru_cache(maxsize=8192)
def _has_glyph(ch: str, cjk: bool) -> bool:
    """True when the font draws ``ch`` as something other than its missing-glyph box."""
    if ch.isspace():
        return True
    return _bitmap(ch, cjk) != _bitmap("\U0010fffd", cjk)


@functools.lru_cache(maxsize=8192)
def _bitmap(ch: str, cjk: bool) -> bytes:
    img = Image.new("L", (_PROBE_SIZE * 2, _PROBE_SIZE * 2))
    ImageDraw.Draw(img).text((0, 0), ch, font=font(_PROBE_SIZE, cjk=cjk), fill=255)
    return img.tobytes()


@functools.lru_cache(maxsize=8192)
def _uses_cjk(ch: str) -> bool:
    if ord(ch) < 0x250:  # Latin and Latin Extended are all in DejaVu
        return False
    return not _has_glyph(ch, False) and _has_glyph(ch, True)


def runs(text: str) -> Iterator[tuple[str, bool]]:
    """Split text into maximal runs drawn by one font: ``(run, is_cjk)``."""
    start = 0
    current: bool | None = None
    for i, ch in enumerate(text):
        cjk = _uses_cjk(ch)
        if current is None:
            current = cjk
        elif cjk != current:
            yield text[start:i], current
            start, current = i, cjk
    if current is not None:
        yield text[start:], current


@functools.lru_cache(maxsize=65536)
def measure(text: str, size: int, bold: bool = False) -> int:
    """Advance width in pixels of one line of text."""
    return round(sum(font(size, bold and not c, c).getlength(r) for r, c in runs(text)))


def line_height(size: int) -> int:
    return round(size * 1.3)


@functools.lru_cache(maxsize=8192)
def wrap(text: str, size: int, width: int, bold: bool = False) -> tuple[tuple[int, int], ...]:
    """Break text into lines no wider than ``width``, as ``(start, end)`` offsets.

    Newlines always break; long lines break at the last space that fits, or
    between characters (CJK has no spaces). The newline itself belongs to no line.
    """
    lines: list[tuple[int, int]] = []
    pos = 0
    for para in text.split("\n"):
        start = pos
        end = pos + len(para)
        while True:
            if measure(text[start:end], size, bold) <= width or end - start <= 1:
                lines.append((start, end))
                break
            # Find the longest prefix that fits (binary search on characters).
            lo, hi = start + 1, end
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if measure(text[start:mid], size, bold) <= width:
                    lo = mid
                else:
                    hi = mid - 1
            cut = lo
            space = text.rfind(" ", start, cut)
            if space > start:
                cut = space + 1
            lines.append((start, cut))
            start = cut
        pos = end + 1
    return tuple(lines)


@functools.lru_cache(maxsize=8192)
def ellipsize(text: str, size: int, width: int, bold: bool = False) -> str:
    """First line of text, shortened with an ellipsis to fit ``width``."""
    line = text.split("\n", 1)[0]
    if measure(line, size, bold) <= width and "\n" not in text:
        return line
    lo, hi = 0, len(line)  # longest prefix that fits with the ellipsis
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(line[:mid] + "…", size, bold) <= width:
            lo = mid
        else:
            hi = mid - 1
    return line[:lo] + "…"


@dataclass
class Canvas:
    """A drawing surface whose origin may be shifted (for scrolled content)."""

    image: Image.Image
    ox: int = 0
    oy: int = 0

    def __post_init__(self) -> None:
        self.draw = ImageDraw.Draw(self.image)

    def _box(self, box: Box) -> Box:
        x1, y1, x2, y2 = box
        return (x1 - self.ox, y1 - self.oy, x2 - self.ox, y2 - self.oy)

    def rect(self, box: Box, fill: Color, radius: int = 0, outline: Color | None = None) -> None:
        x1, y1, x2, y2 = self._box(box)
        if x2 <= x1 or y2 <= y1:
            return
        if radius:
            self.draw.rounded_rectangle(
                (x1, y1, x2 - 1, y2 - 1), radius, fill=fill, outline=outline, width=3
            )
        else:
            self.draw.rectangle((x1, y1, x2 - 1, y2 - 1), fill=fill, outline=outline)

    def ellipse(self, box: Box, fill: Color | None, outline: Color | None = None) -> None:
        x1, y1, x2, y2 = self._box(box)
        self.draw.ellipse((x1, y1, x2 - 1, y2 - 1), fill=fill, outline=outline, width=4)

    def polygon(self, points: list[tuple[int, int]], fill: Color) -> None:
        self.draw.polygon([(x - self.ox, y - self.oy) for x, y in points], fill=fill)

    def line(self, points: list[tuple[int, int]], fill: Color, width: int = 3) -> None:
        self.draw.line([(x - self.ox, y - self.oy) for x, y in points], fill=fill, width=width)

    def text(self, x: int, y: int, text: str, size: int, fill: Color, bold: bool = False) -> int:
        """Draw one line with its top at ``y``; returns the x where it ends."""
        cx = float(x - self.ox)
        # Runs in different fonts share one baseline: DejaVu's ascent below ``y``.
        baseline = y - self.oy + font(size, bold).getmetrics()[0]
        for run, cjk in runs(text):
            f = font(size, bold and not cjk, cjk)
            self.draw.text((cx, baseline), run, font=f, fill=fill, anchor="ls")
            cx += f.getlength(run)
        return round(cx) + self.ox
