"""The agent's terminal on a real VM: interactive programs through terminal_keys/screen.

Everything goes through :class:`rig.env.Env`, as an agent's actions do, with the
recorder attached, so the asciicast is checked against what the agent was shown.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linux_vm.image import GUEST_PASSWORD
from linux_vm.terminal import feed_screen
from rig import actions as A
from rig.cast import read_cast
from rig.env import Env
from rig.recorder import Recorder
from rig.redact import Redactor
from rig.world import World

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


class Term:
    """The verbs a test types with: one action each, checked for an ok observation."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def keys(self, *keys, until=None, timeout=10.0, ok=True):
        obs, _, _ = self.env.step(
            A.TerminalKeys(device="laptop", keys=list(keys), until=until, timeout=timeout)
        )
        assert obs.ok is ok, obs.error
        if until is not None:
            assert until in obs.text, obs.text
        return obs

    def line(self, text, until=None, timeout=10.0):
        return self.keys(A.Text(text=text), "Enter", until=until, timeout=timeout)

    def screen(self, until=None, timeout=5.0, scrollback=0):
        obs, _, _ = self.env.step(
            A.TerminalScreen(device="laptop", until=until, timeout=timeout, scrollback=scrollback)
        )
        assert obs.ok, obs.error
        if until is not None:
            assert until in obs.text, obs.text
        return obs

    def prompt(self):
        """Back at an idle shell prompt (the sentinel proves the shell reads commands)."""
        token = f"ready-{time.monotonic_ns()}"
        return self.line(f"echo {token[:6]}''{token[6:]}", until=f"\n{token}")


@pytest.fixture
def term(laptop, tmp_path):
    world = World(devices={"laptop": laptop})
    recorder = Recorder(tmp_path / "ep", Redactor([GUEST_PASSWORD]))
    env = Env(world, "test", on_step=recorder.on_step, on_terminal=recorder.terminal)
    env.reset()
    t = Term(env)
    t.recorder, t.root = recorder, tmp_path / "ep"
    # The terminal is the session's: start each test at an idle prompt, even when an
    # earlier test failed inside a full-screen program (less's help, man, top, vim).
    obs = t.keys("C-c")
    for leave in (["q"], ["q"], ["Escape", ":qa!", "Enter"], ["q"]):
        if not obs.alternate_screen:
            break
        obs = t.keys(*leave)
    # The tty flushes its input queue on ^C (INTR), so keys typed before the shell has
    # handled it are dropped, as in any terminal: the sentinel is typed again until it shows.
    for attempt in range(3):
        try:
            t.prompt()
            break
        except AssertionError:
            if attempt == 2:
                raise
    yield t
    recorder.close("done")
    world.devices.clear()  # the session-wide laptop is not this test's to close


def test_vim_edits_a_file_and_wq_saves_it(term, laptop):
    laptop.exec("rm -f /tmp/vimfile.txt; printf 'first line\\n' > /tmp/vimfile.txt")
    term.line("vim /tmp/vimfile.txt", until='"/tmp/vimfile.txt"')
    obs = term.keys("G", "o", "added by vim", "Escape")
    assert obs.alternate_screen is True
    obs = term.keys(":wq", "Enter")
    assert obs.alternate_screen is False
    term.prompt()
    assert laptop.read_file("/tmp/vimfile.txt") == b"first line\nadded by vim\n"


def test_less_pages_and_quits(term, laptop):
    laptop.exec("seq -f 'log line %g' 1 500 > /tmp/long.log")
    obs = term.line("less /tmp/long.log", until="log line 39")
    assert "log line 40" not in obs.text and obs.alternate_screen
    obs = term.keys("PageDown", until="log line 78")
    assert "log line 1\n" not in obs.text + "\n"
    obs = term.keys("G", until="log line 500")
    obs = term.keys("q")
    assert not obs.alternate_screen
    term.prompt()


def test_an_entered_line_waits_for_the_answer_not_just_its_echo(term):
    """The echo of a typed command is not its answer: a command that is slow to print is
    waited for (within the timeout), and so is the prompt after a silent one."""
    obs = term.keys("sleep 1.5; echo late-''answer", "Enter")
    assert "\nlate-answer" in obs.text and obs.settled
    assert obs.text.rstrip().endswith("$")  # the prompt is back
    obs = term.keys("sleep 1", "Enter")
    assert obs.text.rstrip().endswith("$") and obs.text.count("sleep 1\n") == 1


def test_a_man_page_opens_in_its_pager_and_quits(term):
    # The pager draws its page in pieces under a slow CPU: wait for the line checked, not
    # the first heading (CI once saw "NAME" alone on the screen).
    obs = term.line("man ls", until="list directory contents", timeout=30)
    assert obs.alternate_screen
    term.keys("q")
    term.prompt()


def test_top_runs_and_stops_with_q(term):
    obs = term.line("top -d 1", until="load average")
    assert "PID" in term.screen(until="PID").text
    # top redraws every second: the screen is read while it keeps drawing.
    obs = term.screen(timeout=1.5)
    assert "load average" in obs.text
    term.keys("q")
    term.prompt()


def test_sudo_prompts_and_the_password_typed_through_terminal_keys_works(term):
    term.line("sudo -k; sudo id -un", until="password for user")
    obs = term.keys(GUEST_PASSWORD, "Enter", until="\nroot")
    assert GUEST_PASSWORD not in obs.text  # the prompt does not echo it
    term.screen()  # sudo relays type-ahead to its own pty: let it finish first
    term.prompt()
    # The password never reaches the record.
    record = (term.root / "trajectory.jsonl").read_text()
    assert GUEST_PASSWORD not in record and "[REDACTED]" in record


def test_read_p_script_gets_its_answer(term, laptop):
    script = 'read -p "Your name? " name; [ -t 0 ] && echo "tty:$name" > /tmp/readp.out'
    laptop.exec(f"rm -f /tmp/readp.out; printf '%s\\n' '{script}' > /tmp/readp.sh")
    term.line("bash /tmp/readp.sh", until="Your name?")
    term.keys("Zoë 世界", "Enter")
    term.prompt()
    assert laptop.read_file("/tmp/readp.out").decode() == "tty:Zoë 世界\n"


def test_a_flood_is_stopped_with_c_c_and_the_terminal_stays_usable(term):
    term.line("yes flooding-the-terminal", until="terminal\nflooding-the-terminal\nflooding")
    obs = term.screen(timeout=1.0)
    assert obs.settled is False  # still pouring out when the wait ended
    assert obs.text.count("flooding-the-terminal") >= 30
    started = time.monotonic()
    term.keys("C-c", timeout=10.0)
    term.prompt()
    assert time.monotonic() - started < 15
    assert term.env.world["laptop"].terminal().screen.columns == 120


def test_non_utf8_bytes_resize_requests_and_a_dead_shell_do_not_break_the_episode(term):
    term.line("printf 'bad:\\xff\\xfe:end\\n'", until="bad:\ufffd\ufffd:end")
    term.line("printf '\\e[8;50;200t\\e[?3h'; stty cols 200; stty size", until="40 200")
    obs = term.prompt()
    assert len(obs.text.splitlines()[0]) <= 120
    term.line("stty cols 120")
    obs = term.line("exit 3")
    # The note when the channel closed within the action; else it closes a moment later.
    assert "shell exited" in obs.text or obs.text.endswith("logout")
    terminal = term.env.world["laptop"].terminal()
    for _ in range(100):
        if not terminal.alive:
            break
        time.sleep(0.05)
    assert not terminal.alive
    obs = term.keys("echo hi", "Enter", ok=False)
    assert "fresh terminal" in obs.error and "not typed" in obs.error
    assert "(exit status 3)" in obs.error  # the status follows the EOF on the wire
    term.prompt()


def test_terminal_and_shell_are_the_same_user_on_the_same_machine(term, laptop):
    term.line("cd /tmp && echo $(id -un)@$(hostname) > /tmp/whoami.term", until="$ ")
    term.prompt()
    out = laptop.shell("cat /tmp/whoami.term; echo $(id -un)@$(hostname)").stdout.split()
    assert out[0] == out[1] == f"{laptop.session.user}@laptop"


def test_the_cast_plays_back_to_the_screen_the_agent_saw(term):
    term.line("printf '\\e[1;31mred\\e[0m plain 世界\\n'; ls -la /etc | head -60")
    term.line("vim -c 'normal 5ihello ' /tmp/cast-demo.txt", until="hello hello")
    obs = term.keys("Escape", ":q!", "Enter")
    term.prompt()
    last = term.screen()
    term.recorder.close("done")
    header, events = read_cast(term.root / "terminal" / "laptop.cast")
    assert (header["width"], header["height"]) == (120, 40)
    played = feed_screen([e[2] for e in events if e[1] == "o"])
    assert "\n".join(played.lines_text()).rstrip("\n") == last.text
    assert (played.cursor.y, played.cursor.x) == tuple(last.cursor)
    markers = [e[2] for e in events if e[1] == "m"]
    assert markers[-1] == f"step {term.env.steps - 1}"
    del obs


HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(list("'\"$`%\\!*?;&|<>(){}[]~#^ \t")),
        st.sampled_from(["Enter", "C-c", "ü", "ß", "é", "张伟", "🦊", "👍🏽", "ｱ", "\u200b"]),
        st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")),
    ),
    min_size=1,
    max_size=60,
).map("".join)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=HOSTILE)
def test_typed_text_arrives_byte_for_byte(term, laptop, text):
    """Quotes, $, backticks, %, emoji, CJK, key names as text: what is typed is what the
    program reads (a line into `cat`, ended by Enter and C-d)."""
    # "go!" is output, so bash has left readline's raw mode when the text is typed.
    term.line("printf 'go''!\\n'; cat > /tmp/typed.txt", until="\ngo!")
    term.keys(A.Text(text=text), "Enter", "C-d")
    term.prompt()
    assert laptop.read_file("/tmp/typed.txt").decode("utf-8") == text + "\n"
