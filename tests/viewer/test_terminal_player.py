"""The report's terminal player (rig/assets/terminal.js) draws what pyte drew.

The same output goes through pyte (what the agent was shown) and through the player
in headless Chromium; their screens must match line for line.
"""

from __future__ import annotations

import json
import random
import shutil

import pytest

from linux_vm.terminal import feed_screen
from rig.actions import TerminalKeys
from rig.env import StepRecord
from rig.observation import Observation
from rig.recorder import Recorder
from rig.redact import Redactor
from rig.viewer import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by scripts/setup.sh"),
]

CASES = {
    "lines and wrap": ["$ ls\r\n", "x" * 130 + "\r\n", "a\tb\tc\bX\r\n"],
    "colours": ["\x1b[1;31mred\x1b[0m \x1b[38;5;208mo\x1b[48;2;1;2;3mrgb\x1b[m end\r\n"],
    "erase and move": ["hello world\x1b[1;3H\x1b[K\x1b[3;5Hxy\x1b[2;1Habc\x1b[1K\x1b[5G!"],
    "scroll region (vim scrolling)": [
        "".join(f"\x1b[{i};1Hline {i}" for i in range(1, 41)),
        "\x1b[2;39r\x1b[2;1H\x1bM\x1bMtop\x1b[39;1H\n\nbottom\x1b[r",
    ],
    "insert and delete": [
        "".join(f"\x1b[{i};1Hrow {i}" for i in range(1, 11)),
        "\x1b[3;1H\x1b[2L\x1b[7;1H\x1b[1M\x1b[1;2H\x1b[2P\x1b[2;2H\x1b[3@\x1b[4;1H\x1b[2X",
    ],
    "alternate screen": ["main text\r\n", "\x1b[?1049h\x1b[H\x1b[2Jfull screen", "\x1b[?1049l"],
    "wide characters": ["世界 héllo\r\n", "日本語" * 30 + "\r\n"],
    "line drawing": ["\x1b(0lqqk\r\nx  x\r\nmqqj\x1b(B ok\r\n"],
    "flood past the bottom": ["".join(f"y {i}\r\n" for i in range(300))],
    "bad bytes": ["bad:\ufffd\ufffd:end\r\n"],
}


def _random_case(seed: int) -> list[str]:
    rnd = random.Random(seed)
    parts = []
    for _ in range(300):
        op = rnd.choice("tttcmeEklrsP@X")
        if op == "t":
            parts.append(rnd.choice(["word ", "x" * rnd.randint(1, 140), "\r\n", "\n", "\t"]))
        elif op == "c":
            parts.append(f"\x1b[{rnd.randint(1, 40)};{rnd.randint(1, 120)}H")
        elif op == "m":
            parts.append(f"\x1b[{rnd.choice('ABCD')}" if rnd.random() < 0.5 else "\x1bM")
        elif op in "eE":
            parts.append(f"\x1b[{rnd.randint(0, 2)}{'K' if op == 'e' else 'J'}")
        elif op == "k":
            parts.append(f"\x1b[{rnd.randint(1, 3)}{rnd.choice('LM')}")
        elif op == "l":
            parts.append(f"\x1b[{rnd.choice(['?1049h', '?1049l'])}")
        elif op == "r":
            top = rnd.randint(1, 20)
            bottom = rnd.randint(top + 1, 40)
            parts.append(f"\x1b[{top};{bottom}r" if rnd.random() < 0.7 else "\x1b[r")
        else:
            parts.append(f"\x1b[{rnd.randint(1, 5)}{op}")
    return parts


def _cast(chunks: list[str]) -> str:
    lines = [json.dumps({"version": 2, "width": 120, "height": 40})]
    lines += [json.dumps([i * 0.01, "o", c]) for i, c in enumerate(chunks)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    folder = tmp_path_factory.mktemp("player")
    rec = Recorder(folder, Redactor())
    rec.json("task.json", {"id": "t", "title": "terminal", "instruction": "x"})
    rec.close("done")
    report = write_report(folder)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())
    yield page
    assert not errors


@pytest.mark.parametrize(
    "chunks",
    [*CASES.values(), *(_random_case(s) for s in range(40))],
    ids=[*CASES, *(f"random-{s}" for s in range(40))],
)
def test_player_draws_the_screen_pyte_drew(page, chunks):
    expected = feed_screen(chunks).lines_text()
    drawn = page.evaluate("c => ClawrigTerm.finalText(c)", _cast(chunks))
    assert drawn == expected


def test_report_plays_the_terminal_at_its_step(browser, tmp_path):
    rec = Recorder(tmp_path / "ep", Redactor(["s3cret-token-x"]))
    rec.json("task.json", {"id": "t", "title": "terminal", "instruction": "x"})

    class FakeTerm:  # what the recorder reads of a terminal: size, repaint, listeners
        columns, lines, listeners = 120, 40, []

        def repaint(self):
            return "\x1b[H\x1b[2J$ "

    term = FakeTerm()
    rec.terminal("laptop", term)
    emit = term.listeners[0]
    import time

    emit(time.time(), "echo s3cret-token-x\r\ns3cret-token-x\r\n$ ")
    action = TerminalKeys(device="laptop", keys=["echo hi", "Enter"])
    rec.on_step(StepRecord(0, action, Observation(device="laptop", action="terminal_keys"), 0, 0))
    emit(time.time(), "\x1b[?1049h\x1b[Hin vim")
    rec.on_step(StepRecord(1, action, Observation(device="laptop", action="terminal_keys"), 0, 0))
    rec.close("done")
    cast_text = (tmp_path / "ep" / "terminal" / "laptop.cast").read_text()
    assert "s3cret" not in cast_text
    report = write_report(tmp_path / "ep")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())
    assert "[REDACTED]" in page.inner_text(".ct-screen")  # step 0: the agent's screen
    page.keyboard.press("ArrowRight")
    assert page.inner_text(".ct-screen").startswith("in vim")  # step 1
    page.click(".ct-play")  # replay from step 0's end: the main screen first
    assert page.inner_text(".ct-screen").startswith("$ echo [REDACTED]")
    page.wait_for_function(
        "() => document.querySelector('.ct-screen').innerText.startsWith('in vim')"
    )
    assert not errors
