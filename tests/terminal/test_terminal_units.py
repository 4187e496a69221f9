"""The terminal's parts that need no VM: key names, the screen model, the cast, the schema."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.keys import KEYCODES
from linux_vm.terminal import TerminalScreen, feed_screen
from linux_vm.terminal_keys import canonical, encode_key
from rig import actions as A
from rig.cast import CastWriter, read_cast
from rig.env import StepRecord
from rig.episode import _commands
from rig.errors import ActionInvalid
from rig.observation import Observation
from rig.redact import Redactor


def test_named_keys_are_the_bytes_an_xterm_sends():
    assert encode_key("Enter") == "\r"
    assert encode_key("C-c") == "\x03" == encode_key("ctrl+C") == encode_key("^C")
    assert encode_key("C-d") == "\x04"
    assert encode_key("Escape") == "\x1b" == encode_key("esc")
    assert encode_key("PageDown") == "\x1b[6~" == encode_key("page_down") == encode_key("PgDn")
    assert encode_key("Up") == "\x1b[A" and encode_key("Up", app_cursor=True) == "\x1bOA"
    assert encode_key("F1") == "\x1bOP" and encode_key("f12") == "\x1b[24~"
    assert encode_key("M-x") == "\x1bx" and encode_key("alt+Left") == "\x1b\x1b[D"
    assert encode_key("Backspace") == "\x7f" and encode_key("shift_tab") == "\x1b[Z"
    for text in ("hello", "q", ":wq", "git status", "M-dash", "ctrl"):
        assert encode_key(text) is None, text


def test_names_shared_with_android_mean_the_same_key():
    """One schema: a name both tables know is spelled alike (Android's DEL is backspace)."""
    shared = {n for n in KEYCODES if canonical(n) is not None}
    assert {
        "enter",
        "tab",
        "escape",
        "space",
        "del",
        "forward_del",
        "page_up",
        "page_down",
        "move_home",
        "move_end",
        "dpad_up",
        "dpad_down",
        "dpad_left",
        "dpad_right",
    } <= shared
    # "home" is Android's home *button*; a terminal has none, so there it is the Home key.
    assert canonical("home") == "move_home"
    for name in shared - {"home"}:
        assert canonical(name) == name
    assert canonical("delete") == canonical("backspace") == "del"  # as emulator/keys.ALIASES


def test_alternate_screen_restores_the_main_screen_and_keeps_no_scrollback():
    screen = feed_screen(["$ vim notes\r\n", "\x1b[?1049h\x1b[H\x1b[2Jvim text", "\x1b[?1049l"])
    assert screen.lines_text()[0] == "$ vim notes"
    assert not screen.alternate
    screen = feed_screen(["before\r\n\x1b[?1049h", "\r\n" * 100])
    assert screen.alternate and list(screen.scrollback) == []


def test_scrollback_is_bounded_and_keeps_the_newest_lines():
    screen = TerminalScreen(20, 5, scrollback=10)
    import pyte

    stream = pyte.Stream(screen)
    stream.feed("".join(f"line {i}\r\n" for i in range(100)))
    assert list(screen.scrollback) == [f"line {i}" for i in range(86, 96)]
    assert screen.lines_text()[:4] == [f"line {i}" for i in range(96, 100)]


def test_a_program_cannot_resize_the_terminal():
    screen = feed_screen(["abc", "\x1b[?3h", "\x1b[8;50;200t", "xyz"])
    assert (screen.columns, screen.lines) == (120, 40)
    assert screen.lines_text()[0] == "xyz"


@given(st.binary(max_size=300))
@settings(max_examples=60, deadline=None)
def test_any_bytes_are_shown_not_crashed_on(data):
    import codecs

    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=True)
    screen = feed_screen([text])
    assert len(screen.lines_text()) == 40


def test_private_forms_pyte_does_not_know_are_ignored_not_fatal():
    """vim sends ``ESC [ > 4 ; 2 m`` (modifyOtherKeys): pyte raised on it, killing the reader."""
    screen = feed_screen(["a\x1b[>4;2mb\x1b[?1;2Ac\x1b[?5Xd", "\x1b[?4m\x1b[>1de"])
    assert screen.lines_text()[0] == "abcde"


def test_repaint_reproduces_the_screen_text():
    screen = feed_screen(["héllo 世界\r\n\x1b[31mred\x1b[0m", "\x1b[5;10Hx"])
    again = feed_screen([screen.repaint()])
    assert again.lines_text() == screen.lines_text()
    assert (again.cursor.y, again.cursor.x) == (screen.cursor.y, screen.cursor.x)


def test_cast_redacts_a_secret_split_across_chunks_and_marks_steps(tmp_path):
    writer = CastWriter(tmp_path / "t.cast", 120, 40, Redactor(["hunter2-secret"]), "laptop")
    writer.output(writer.start + 0.1, "token: hunter2-")
    writer.output(writer.start + 0.2, "secret\r\n$ ")
    t = writer.mark("step 0")
    writer.close()
    header, events = read_cast(tmp_path / "t.cast")
    assert (header["version"], header["width"], header["height"]) == (2, 120, 40)
    out = "".join(e[2] for e in events if e[1] == "o")
    assert "hunter2" not in out and "[REDACTED]" in out and out.endswith("$ ")
    assert events[-1][1:] == ["m", "step 0"] and events[-1][0] == pytest.approx(t, abs=1e-3)
    assert [e[0] for e in events] == sorted(e[0] for e in events)


def test_cast_past_its_cap_repaints_the_screen_at_the_next_marker(tmp_path):
    screen = TerminalScreen()
    import pyte

    stream = pyte.Stream(screen)
    writer = CastWriter(tmp_path / "t.cast", 120, 40, Redactor(), cap=1000, repaint=screen.repaint)
    for i in range(500):
        chunk = f"y {i}\r\n"
        stream.feed(chunk)
        writer.output(writer.start, chunk)
    writer.mark("step 3")
    writer.close()
    assert writer.dropped > 0 and writer.written <= 1000
    _, events = read_cast(tmp_path / "t.cast")
    played = feed_screen([e[2] for e in events if e[1] == "o"])
    assert played.lines_text() == screen.lines_text()


def test_terminal_keys_schema():
    a = A.parse_action(
        {"action": "terminal_keys", "device": "laptop", "keys": [":wq", "Enter", {"text": "Tab"}]}
    )
    assert a.items() == [":wq", "Enter", ("text", "Tab")]
    with pytest.raises(ActionInvalid, match="keys"):
        A.parse_action({"action": "terminal_keys", "device": "laptop", "keys": []})
    with pytest.raises(ActionInvalid, match="timeout"):
        A.parse_action({"action": "terminal_screen", "device": "laptop", "timeout": 99})
    with pytest.raises(ActionInvalid, match="10000"):
        A.parse_action({"action": "terminal_keys", "device": "laptop", "keys": ["x" * 10_001]})
    names = {t["name"] for t in A.tool_specs()}
    assert {"terminal_keys", "terminal_screen"} <= names
    json.dumps(A.tool_specs())
    from rig.agents.openai_agent import tool_definitions
    from rig.mcp_server import tool_list

    assert {"terminal_keys", "terminal_screen"} <= {
        t["function"]["name"] for t in tool_definitions()
    }
    mcp = {t.name: t for t in tool_list()}
    assert mcp["terminal_screen"].annotations.read_only_hint is True
    assert mcp["terminal_keys"].annotations.read_only_hint is False


def test_lines_typed_into_the_terminal_count_as_commands_for_safety():
    def rec(keys):
        return StepRecord(0, A.TerminalKeys(device="laptop", keys=keys), Observation(), 0, 0)

    records = [
        rec(["rm -rf ~/no", "C-c", "ls -l", "Enter"]),
        rec(["sudo useradd ", {"text": "Enter"}, "x", "Enter"]),
        rec(["half typed"]),
    ]
    assert _commands(records) == [
        ("laptop", "ls -l"),
        ("laptop", "sudo useradd Enterx"),
        ("laptop", "half typed"),
    ]


def test_a_seed_plan_with_a_binary_file_is_recorded_as_base64():
    """A placed git object (zlib) is not UTF-8: the episode's seed/ROLE-plan.json keeps it."""
    import base64

    from linux_vm.seeding import FileRecord, LinuxSeedPlan
    from rig.world_setup import plan_json

    blob = b"x\x01\x82\xff\x00git"
    plan = LinuxSeedPlan(records=[FileRecord(path="~/src/r/.git/objects/ab/cd", content=blob)])
    data = plan_json(plan)
    json.dumps(data)
    assert base64.b64decode(data["records"][0]["content"]["base64"]) == blob


def _terminal_that_received(before: str, after: str):
    """A terminal's bookkeeping alone (no shell): ``before`` arrived before the mark."""
    from linux_vm.terminal import Terminal

    term = Terminal.__new__(Terminal)
    term._recent, term._chars = before + after, len(before + after)
    return term, len(before)


def test_a_late_prompt_of_the_last_command_is_not_the_answer_to_the_next_line():
    # Seen in CI: the previous step returned on its `until`, its prompt arrived after the
    # next step's mark, and the echo of the new line was taken for the new command's answer.
    late_prompt = "\r\nuser@laptop:~$ "
    echo = "sleep 1.5; echo late-''answer\r\n"
    term, mark = _terminal_that_received("ready-1", late_prompt + echo)
    assert not term._answered(mark, True, "sleep 1.5; echo late-''answer")
    term, mark = _terminal_that_received("ready-1", late_prompt + echo + "late-answer\r\n")
    assert term._answered(mark, True, "sleep 1.5; echo late-''answer")
    # A line that is not echoed (a password prompt) still counts the first line break.
    term, mark = _terminal_that_received("Password: ", "\r\nSorry, try again.\r\n")
    assert term._answered(mark, True, "hunter2")


def test_the_text_before_enter_is_what_the_answer_waits_behind():
    from rig.env import _entered_line

    assert _entered_line(["ls -l", "Enter"]) == (True, "ls -l")
    assert _entered_line([("text", "Enter"), "Enter", "C-c"]) == (True, "Enter")
    assert _entered_line(["ls", "Tab", "Enter"]) == (True, "")
    assert _entered_line(["q"]) == (False, "")
