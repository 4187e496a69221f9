"""A scripted agent's view of the world: short verbs over ``env.step``.

Oracles (and any scripted agent) use this instead of calling devices, so a
passing oracle proves the task can be solved through the agent interface:
taps are found in the UI tree by their text, exactly as a careful agent would.
"""

from __future__ import annotations

import re
import shlex
import time
from typing import Any

from rig import actions as A
from rig.env import Env
from rig.observation import Observation


class OracleStuck(AssertionError):
    """A scripted step found the world not as expected (a broken task, app or oracle)."""


class Actions:
    """``actions.tap_text("phone", "Save")``, ``actions.shell("laptop", "ls")`` …"""

    def __init__(self, env: Env) -> None:
        self.env = env

    def do(self, action: Any) -> Observation:
        obs, _, _ = self.env.step(action)
        if not obs.ok:
            raise OracleStuck(f"{action!r} failed: {obs.error}")
        return obs

    # -- Linux ---------------------------------------------------------------------------

    def shell(self, device: str, command: str, timeout: float = 60.0, check: bool = True):
        obs = self.do(A.Shell(device=device, command=command, timeout=timeout))
        if check and obs.exit_code != 0:
            raise OracleStuck(f"{command!r} exited {obs.exit_code}: {obs.stderr}")
        return obs

    def read_file(self, device: str, path: str) -> str:
        return self.do(A.ReadFile(device=device, path=path)).text or ""

    def write_file(self, device: str, path: str, content: str) -> Observation:
        return self.do(A.WriteFile(device=device, path=path, content=content))

    def keys(
        self, device: str, *keys: str | A.Text, until: str | None = None, timeout: float = 5.0
    ) -> Observation:
        """Type into the terminal: key names (``"Enter"``, ``"C-c"``) and text, in order;
        returns the screen once output settles (or ``until`` shows)."""
        obs = self.do(A.TerminalKeys(device=device, keys=list(keys), until=until, timeout=timeout))
        if until is not None and not obs.settled:  # settled: `until` showed
            raise OracleStuck(f"{until!r} not on the terminal of {device}: {obs.text}")
        return obs

    def type_line(self, device: str, line: str, until: str | None = None, timeout: float = 10.0):
        """Type ``line`` as text (never read as a key name) and press Enter."""
        return self.keys(device, A.Text(text=line), "Enter", until=until, timeout=timeout)

    def screen(
        self, device: str, until: str | None = None, timeout: float = 5.0, scrollback: int = 0
    ) -> Observation:
        """The terminal's screen; with ``until``, once that text shows (else OracleStuck)."""
        obs = self.do(
            A.TerminalScreen(device=device, until=until, timeout=timeout, scrollback=scrollback)
        )
        if until is not None and not obs.settled:
            raise OracleStuck(f"{until!r} not on the terminal of {device}: {obs.text}")
        return obs

    def mail(self, device: str, marker: str) -> str:
        """The decoded text (``mshow``) of the inbox mail whose file contains ``marker``
        (a Message-ID is a good one): a person opening the one mail they look for."""
        # The generated Maildir (~/Mail/INBOX), or the IMAP mirror when the world has a mail
        # service (~/Maildir: its inbox is cur/ and new/, folders are dot-directories).
        # Only the folders this world has (grep exits 2 on a missing one, match or not).
        found = self.shell(
            device,
            "for d in ~/Mail/INBOX ~/Maildir/cur ~/Maildir/new; do "
            f'[ -d "$d" ] && grep -rl -- {shlex.quote(marker)} "$d"; done; true',
        )
        paths = found.stdout.split()
        if len(paths) != 1:
            raise OracleStuck(f"{len(paths)} mails contain {marker!r} on {device}: {paths}")
        return self.shell(device, f"mshow {shlex.quote(paths[0])}").stdout

    # -- Android -------------------------------------------------------------------------

    def launch(self, device: str, app: str) -> Observation:
        return self.do(A.Launch(device=device, app=app))

    def tap(self, device: str, x: int, y: int) -> Observation:
        return self.do(A.Tap(device=device, x=x, y=y))

    def find(
        self,
        device: str,
        text: str | None = None,
        desc: str | None = None,
        regex: bool = False,
        timeout: float = 5.0,
        scroll: int = 12,
    ) -> int:
        """Id of the first element whose text (and/or description) matches.

        Like a person, it scrolls the screen's list down (up to ``scroll`` swipes, until
        the list stops moving) before waiting for the screen to change.
        """
        deadline = time.monotonic() + timeout
        swipes = 0
        while True:
            self.do(A.UiTree(device=device))
            elements = self.env.elements(device)
            for element in elements:
                if _matches(element.text, text, regex) and _matches(element.desc, desc, regex):
                    return element.id
            lists = [e for e in elements if e.scrollable]
            if lists and swipes < scroll:
                swipes += 1
                before = [(e.text, e.desc) for e in elements]
                x1, y1, x2, y2 = lists[0].bounds
                x, top, bottom = (x1 + x2) // 2, y1 + (y2 - y1) // 4, y2 - (y2 - y1) // 4
                self.do(A.Swipe(device=device, x1=x, y1=bottom, x2=x, y2=top, duration_ms=400))
                if [(e.text, e.desc) for e in self.env.elements(device)] != before:
                    continue  # the list moved: look again at once
                swipes = scroll  # the end of the list: only waiting can help now
            if time.monotonic() >= deadline:
                raise OracleStuck(f"nothing with text={text!r} desc={desc!r} on {device}")
            time.sleep(0.2)

    def tap_text(self, device: str, text: str, regex: bool = False) -> Observation:
        return self.do(A.Tap(device=device, element=self.find(device, text=text, regex=regex)))

    def tap_desc(self, device: str, desc: str, regex: bool = False) -> Observation:
        return self.do(A.Tap(device=device, element=self.find(device, desc=desc, regex=regex)))

    def type(self, device: str, text: str) -> Observation:
        return self.do(A.Type(device=device, text=text))

    def retype(self, device: str, shown: str, text: str) -> Observation:
        """Replace a one-line field's ``shown`` text with ``text`` as a person does: tap
        it, go to the end, press delete back to where the two differ, type the rest
        ("2026-03-16" to "2026-03-19" is one delete and "9")."""
        keep = 0
        while keep < min(len(shown), len(text)) and shown[keep] == text[keep]:
            keep += 1
        self.tap_text(device, shown)
        obs = self.key(device, "move_end")
        for _ in shown[keep:]:
            obs = self.key(device, "del")
        return self.type(device, text[keep:]) if text[keep:] else obs

    def tap_until(self, device: str, text: str, shown: str, most: int = 31) -> list[str]:
        """Tap ``text`` (a "Next day" button, say) until some element shows ``shown``;
        at most ``most`` taps. Returns the screen's texts then."""
        for _ in range(most + 1):
            texts = self.screen_text(device)
            if shown in texts:
                return texts
            self.tap_text(device, text)
        raise OracleStuck(f"{shown!r} not on {device} after {most} taps on {text!r}")

    def key(self, device: str, name: str) -> Observation:
        return self.do(A.Key(device=device, key=name))

    def swipe(self, device: str, x1: int, y1: int, x2: int, y2: int, ms: int = 300):
        return self.do(A.Swipe(device=device, x1=x1, y1=y1, x2=x2, y2=y2, duration_ms=ms))

    def screen_text(self, device: str) -> list[str]:
        self.do(A.UiTree(device=device))
        return [e.text or e.desc for e in self.env.elements(device)]

    def see(self, device: str, *needles: str) -> list[str]:
        """The screen's texts, after making sure each needle is part of one of them: the
        check a person makes before acting on what they read."""
        texts = self.screen_text(device)
        missing = [n for n in needles if not any(n in t for t in texts)]
        if missing:
            raise OracleStuck(f"{missing} not on the screen of {device}: {texts}")
        return texts

    # -- the user ------------------------------------------------------------------------

    def answer(self, text: str) -> Observation:
        return self.do(A.Answer(text=text))

    def notify(self, text: str) -> Observation:
        return self.do(A.Notify(text=text))

    def ask_user(self, question: str) -> str:
        """Ask the person; returns their reply (the observation's text without its lead-in)."""
        obs = self.do(A.AskUser(question=question))
        return (obs.text or "").removeprefix("the user replies: ")

    def wait(self, seconds: float | None = None) -> str:
        """Let time pass: a stepped world moves ``seconds`` ahead, or to the next live event
        (firing what falls due); otherwise a real sleep. Returns the observation's text."""
        return self.do(A.Wait(seconds=seconds)).text or ""

    def finish(self, reason: str = "") -> Observation:
        return self.do(A.Finish(reason=reason))

    # -- heartbeats ----------------------------------------------------------------------

    @property
    def beat(self) -> Any:
        """The heartbeat the agent is in (``rig.heartbeats.Beat``: index, total, at,
        prompt), or None when the task has no heartbeats or the episode is over."""
        beats = self.env.beats
        return None if beats is None or self.env.done else beats.current

    def next_beat(self) -> Any:
        """Finish this heartbeat and sleep until the next one; returns it (None once the
        episode is over)."""
        self.finish("nothing more for now")
        return self.beat

    def sleep_until(self, hhmm: str) -> Any:
        """Sleep through heartbeats until the first one at or after ``hhmm`` (world time,
        24-hour); returns it. A person's "look again after lunch"."""
        hour, minute = (int(p) for p in hhmm.split(":"))
        while (beat := self.beat) is not None and (beat.at.hour, beat.at.minute) < (hour, minute):
            self.next_beat()
        if beat is None:
            raise OracleStuck(f"the episode ended before a heartbeat at {hhmm}")
        return beat


def _matches(value: str, wanted: str | None, regex: bool) -> bool:
    if wanted is None:
        return True
    return re.search(wanted, value) is not None if regex else value == wanted
