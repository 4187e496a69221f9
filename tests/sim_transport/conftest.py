"""Fixtures for the virtual phone's transport: one real phone, private adb servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest
from sim_transport_helpers import ADB29, ADBS, AdbHost

from emulator.sim.phone import Phone


@pytest.fixture(scope="session")
def token_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("console") / "auth_token"
    path.write_text("sekrit-token\n")
    return path


@pytest.fixture(scope="session")
def phone(tmp_path_factory, token_file) -> Iterator[Phone]:
    """One real phone (real shell, UI, providers) shared by the whole area."""
    state = tmp_path_factory.mktemp("phone-state")
    with Phone(state, console_token_path=token_file, name="transport_test") as p:
        yield p


@pytest.fixture(scope="session", params=sorted(ADBS))
def adb(request, phone) -> Iterator[AdbHost]:
    """Each adb version in turn, connected to ``phone``."""
    host = AdbHost(ADBS[request.param])
    try:
        host.connect(phone.serial)
        yield host
    finally:
        host.stop()


@pytest.fixture(scope="session")
def adb29(phone) -> Iterator[AdbHost]:
    host = AdbHost(ADB29)
    try:
        host.connect(phone.serial)
        yield host
    finally:
        host.stop()


@pytest.fixture(scope="session")
def device(adb29, phone) -> adbutils.AdbDevice:
    """adbutils' view of the phone through the adb 29 server."""
    return adb29.client().device(phone.serial)
