"""Text and shapes on a Pillow image, with real fonts and per-character fallback.

DejaVu Sans covers Latin, Greek, Cyrillic and many symbols; Noto Sans CJK
covers Chinese, Japanese and Korean; Noto Color Emoji draws emoji in colour, as
a phone does (ZWJ sequences and skin tones as one glyph when Pillow has raqm).
A character DejaVu lacks is drawn with whichever Noto font has it; anything none
has is drawn as DejaVu's "missing glyph" box, which is what a phone without the
font would show (and what emoji look like where the emoji font is not installed).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, features

LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LATIN_BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
# A bitmap (CBDT) font with one strike: it loads at 109 px only and is scaled to size.
EMOJI_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
_EMOJI_STRIKE = 109
# Joiners, presentation selectors and skin tones belong to the emoji before them.
_EMOJI_JOINERS = frozenset("\u200d\ufe0f\ufe0e") | {chr(c) for c in range(0x1F3FB, 0x1F400)}

Script = Literal["latin", "cjk", "emoji"]

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


@functools.lru_cache(maxsize=1)
def emoji_font() -> ImageFont.FreeTypeFont | None:
    """The colour emoji font, or None where it is not installed (emoji become boxes)."""
    if not os.path.exists(EMOJI_FONT):
        return None
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    try:
        return ImageFont.truetype(EMOJI_FONT, _EMOJI_STRIKE, layout_engine=layout)
    except OSError:
        return None


@functools.lru_cache(maxsize=8192)
def _is_emoji(ch: str, selected: bool = False) -> bool:
    """The emoji font has ``ch`` (its missing glyph has no height) and DejaVu either
    lacks it, or it is in the emoji planes, or U+FE0F asks for emoji presentation
    (``selected``): where a phone always draws colour."""
    f = emoji_font()
    if f is None or ord(ch) < 0x2000:
        return False
    _, top, _, bottom = f.getbbox(ch)
    return bottom > top and (selected or ord(ch) >= 0x1F000 or not _has_glyph(ch, False))


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


def _script(ch: str, current: Script | None, selected: bool) -> Script:
    if current == "emoji" and ch in _EMOJI_JOINERS:
        return "emoji"
    if _is_emoji(ch, selected):
        return "emoji"
    return "cjk" if _uses_cjk(ch) else "latin"


def runs(text: str) -> Iterator[tuple[str, Script]]:
    """Split text into maximal runs drawn by one font: ``(run, script)``."""
    start = 0
    current: Script | None = None
    for i, ch in enumerate(text):
        script = _script(ch, current, text[i + 1 : i + 2] == "\ufe0f")
        if current is None:
            current = script
        elif script != current:
            yield text[start:i], current
            start, current = i, script
    if current is not None:
        yield text[start:], current


def _run_length(run: str, script: Script, size: int, bold: bool) -> float:
    if script == "emoji":
        f = emoji_font()
        assert f is not None
        return f.getlength(run) * size / _EMOJI_STRIKE
    return font(size, bold and script == "latin", script == "cjk").getlength(run)


@functools.lru_cache(maxsize=65536)
def measure(text: str, size: int, bold: bool = False) -> int:
    """Advance width in pixels of one line of text."""
    return round(sum(_run_length(r, s, size, bold) for r, s in runs(text)))


@functools.lru_cache(maxsize=1024)
def _emoji_image(run: str, size: int) -> tuple[Image.Image, int]:
    """The run drawn in colour at the font's strike and scaled to ``size``; and its
    ascent in pixels (where the baseline falls in the image)."""
    f = emoji_font()
    assert f is not None
    ascent, descent = f.getmetrics()
    width = max(1, math.ceil(f.getlength(run)))
    big = Image.new("RGBA", (width, ascent + descent))
    ImageDraw.Draw(big).text((0, ascent), run, font=f, embedded_color=True, anchor="ls")
    scale = size / _EMOJI_STRIKE
    small = big.resize(
        (max(1, round(width * scale)), max(1, round((ascent + descent) * scale))),
        Image.Resampling.LANCZOS,
    )
    return small, round(ascent * scale)


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
        for run, script in runs(text):
            if script == "emoji":
                img, ascent = _emoji_image(run, size)
                self.image.paste(img, (round(cx), baseline - ascent), img)
            else:
                f = font(size, bold and script == "latin", script == "cjk")
                self.draw.text((cx, baseline), run, font=f, fill=fill, anchor="ls")
            cx += _run_length(run, script, size, bold)
        return round(cx) + self.ox
