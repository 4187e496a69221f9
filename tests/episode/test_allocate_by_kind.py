"""A world's devices start kind by kind side by side: a laptop boots while a phone starts."""

from __future__ import annotations

import threading

import pytest

from rig.world_setup import by_kind


def test_kinds_start_side_by_side_and_roles_keep_their_order():
    laptop_started = threading.Event()
    seen: list[str] = []

    def start(role, kind):
        seen.append(role)
        if kind == "linux":
            laptop_started.set()
            return f"{role}-up"
        # A phone's start that ran before (or after) the laptop's, not beside it, would wait
        # here in vain.
        assert laptop_started.wait(10), "the laptop did not start beside the phone"
        return f"{role}-up"

    roles = {"phone": "android", "laptop": "linux", "tablet": "android"}
    started, failed = by_kind(roles, start)
    assert failed is None
    assert list(started) == ["phone", "laptop", "tablet"]
    assert started == {r: f"{r}-up" for r in roles}
    assert seen.index("phone") < seen.index("tablet")  # one kind's roles one after another


def test_laptops_start_in_the_calling_thread():
    threads: dict[str, str] = {}

    def start(role, kind):
        threads[role] = threading.current_thread().name
        return role

    by_kind({"phone": "android", "laptop": "linux"}, start)
    assert threads["laptop"] == threading.current_thread().name
    assert threads["phone"] != threads["laptop"]


@pytest.mark.parametrize("broken", ["linux", "android"])
def test_a_failed_start_is_returned_with_what_did_start(broken):
    def start(role, kind):
        if kind == broken:
            raise RuntimeError(f"{role} would not start")
        return role

    started, failed = by_kind({"phone": "android", "laptop": "linux"}, start)
    assert isinstance(failed, RuntimeError)
    assert started == ({"phone": "phone"} if broken == "linux" else {"laptop": "laptop"})


def test_no_roles_start_nothing():
    assert by_kind({}, lambda role, kind: role) == ({}, None)
