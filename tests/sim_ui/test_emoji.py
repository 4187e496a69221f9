"""The virtual phone draws emoji in colour (Noto Color Emoji, installed by setup), and
the screenshot and the UI tree agree on the text; without the font, boxes, no error."""

from __future__ import annotations

from PIL import Image

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui import render
from emulator.sim.ui.system import UiSystem
from tests.sim_ui.screen import find
from tests.sim_ui.test_apps import add_contact

CONTACTS_APP = "com.android.contacts"


def coloured_pixels(img: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels whose channels differ a lot: not white, grey or black ink."""
    data = img.convert("RGB").crop(box).tobytes()
    return sum(
        1 for i in range(0, len(data), 3) if max(data[i : i + 3]) - min(data[i : i + 3]) > 60
    )


def test_emoji_draw_in_colour() -> None:
    assert render.emoji_font() is not None, "scripts/setup.sh installs fonts-noto-color-emoji"
    img = Image.new("RGB", (300, 100), "white")
    end = render.Canvas(img).text(10, 10, "🎉👍🦊", 40, render.INK)
    assert coloured_pixels(img, (0, 0, 300, 100)) > 500
    assert end == 10 + render.measure("🎉👍🦊", 40) and end > 100
    assert [s for _, s in render.runs("Hi 🦊 张伟")] == ["latin", "emoji", "latin", "cjk"]


def test_zwj_sequence_and_skin_tone_stay_in_one_emoji_run() -> None:
    text = "👩\u200d💻👍🏽❤️ ok"
    assert list(render.runs(text)) == [("👩\u200d💻👍🏽❤️", "emoji"), (" ok", "latin")]


def test_without_the_font_emoji_are_boxes_not_errors(monkeypatch) -> None:
    monkeypatch.setattr(render, "EMOJI_FONT", "/nonexistent/NotoColorEmoji.ttf")
    for cached in (render.emoji_font, render._is_emoji, render.measure):
        cached.cache_clear()
    try:
        img = Image.new("RGB", (200, 100), "white")
        render.Canvas(img).text(0, 0, "🎉👍", 40, render.INK)
        assert coloured_pixels(img, (0, 0, 200, 100)) == 0
        assert img.getbbox() is not None and img.convert("L").getextrema()[0] < 128  # the boxes
    finally:
        for cached in (render.emoji_font, render._is_emoji, render.measure):
            cached.cache_clear()


def test_contact_with_emoji_shows_colour_and_the_tree_has_its_text(
    ctx: PhoneContext, ui: UiSystem
) -> None:
    name = "Zoë 🦊 Müller"
    add_contact(ctx, name, "+49 30 901820")
    ui.start(CONTACTS_APP)
    node = find(ui, text=name)
    assert node.text == name  # the dump carries the exact text
    shot = ui.screenshot()
    assert coloured_pixels(shot, node.bounds) > 100, node.bounds
