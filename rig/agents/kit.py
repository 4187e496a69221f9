"""Helpers for scripted agents (oracles): everything goes through ``env.step``."""

from __future__ import annotations

import re
import time

from rig import actions as A
from rig.env import Env
from rig.observation import Observation


class OracleStuck(AssertionError):
    """A scripted step found the screen not as expected (a broken task or app)."""


def step(env: Env, action: object) -> Observation:
    obs, _, _ = env.step(action)
    if not obs.ok:
        raise OracleStuck(f"{action!r} failed: {obs.error}")
    return obs


def find(
    env: Env,
    device: str,
    text: str | None = None,
    desc: str | None = None,
    regex: bool = False,
    timeout: float = 5.0,
) -> int:
    """The element id of the first element whose text (or description) matches."""
    deadline = time.monotonic() + timeout
    while True:
        step(env, A.UiTree(device=device))
        for element in env.elements(device):
            if _matches(element.text, text, regex) and _matches(element.desc, desc, regex):
                return element.id
        if time.monotonic() >= deadline:
            raise OracleStuck(f"no element with text={text!r} desc={desc!r} on {device}")
        time.sleep(0.2)


def _matches(value: str, wanted: str | None, regex: bool) -> bool:
    if wanted is None:
        return True
    return re.search(wanted, value) is not None if regex else value == wanted


def tap(env: Env, device: str, text: str | None = None, desc: str | None = None) -> Observation:
    """Tap the element showing ``text`` (or described as ``desc``)."""
    return step(env, A.Tap(device=device, element=find(env, device, text, desc)))


def type_text(env: Env, device: str, text: str) -> Observation:
    return step(env, A.Type(device=device, text=text))


def shell(env: Env, device: str, command: str, timeout: float = 60.0) -> Observation:
    obs = step(env, A.Shell(device=device, command=command, timeout=timeout))
    if obs.exit_code != 0:
        raise OracleStuck(f"{command!r} exited {obs.exit_code}: {obs.stderr}")
    return obs
