"""Apps by role: the virtual phone's profile, the stock AOSP one and one of the user's
own, resolved on a real virtual phone through adb (``pm list packages``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import uiautomator2

from emulator.adb import AdbServer
from emulator.apks import install_apks
from emulator.apps import AOSP, VIRTUAL_PHONE
from emulator.backends import SimBackend
from emulator.errors import AndroidInputError
from rig.config import parse_config
from rig.errors import ConfigInvalid
from scoring.evaluate import _is_app

pytestmark = [pytest.mark.integration]
APK = Path(uiautomator2.__file__).parent / "assets" / "app-uiautomator.apk"


@pytest.fixture
def sim(adb_server: AdbServer, tmp_path: Path):
    made: list[tuple[SimBackend, object]] = []

    def acquire(**android) -> object:
        cfg = parse_config({"android": android, "paths": {"cache": str(tmp_path)}})
        backend = SimBackend(cfg.backend_config("android"), server=adb_server)
        phone = backend.acquire("phone", tmp_path / f"w{len(made)}")
        made.append((backend, phone))
        return phone

    yield acquire
    for backend, phone in made:
        backend.release(phone)


def test_the_virtual_phone_fills_every_role_and_launches_by_role(sim) -> None:
    phone = sim()
    assert phone.apps.profile == "virtual-phone"  # auto: ro.product.device says so
    table = phone.apps.table()
    assert table == {role: pkgs[0] for role, pkgs in VIRTUAL_PHONE.items()}
    phone.launch("messages")
    assert phone.current_app()[0] == "com.google.android.apps.messaging"
    phone.launch("clock")
    focused = phone.current_app()[0]
    assert focused == "com.android.deskclock"
    assert _is_app(phone, "clock", focused) and not _is_app(phone, "calendar", focused)
    assert _is_app(phone, "com.android.deskclock", focused)  # a package name still works
    with pytest.raises(AndroidInputError, match="neither a package name nor an app role"):
        phone.launch("weather")


def test_the_aosp_profile_takes_the_first_installed_candidate(sim) -> None:
    phone = sim(app_profile="aosp")
    table = phone.apps.table()
    assert set(table) == set(AOSP)
    # AOSP's Messaging is not on the virtual phone; Google's, the second candidate, is.
    assert table["messages"] == "com.google.android.apps.messaging"
    assert table["contacts"] == "com.android.contacts"
    assert table["chat"] is None  # Element is not installed
    with pytest.raises(AndroidInputError, match=r"no app fills the role 'chat'.*im\.vector\.app"):
        phone.launch("chat")


def test_a_user_profile_and_old_package_names(sim) -> None:
    own = {"mine": {"messages": ["org.example.sms", "com.github.uiautomator"]}}
    phone = sim(app_profile="mine", app_profiles=own)
    assert phone.apps.package("messages") is None  # neither candidate installed yet
    assert phone.apps.package("calendar") == "com.android.calendar"  # from aosp
    install_apks(phone, [APK])
    assert phone.apps.package("messages") == "com.github.uiautomator"  # found once installed
    # A task written for the virtual phone names its Messages package; on a device without
    # it, that name means the role, filled here by another app.
    assert phone.apps.resolve("com.google.android.apps.messaging") == (
        "com.google.android.apps.messaging"  # still installed: taken as it is
    )
    out = phone.shell("pm uninstall --user 0 com.google.android.apps.messaging").stdout
    assert out.strip() == "Success"
    assert not phone.has_package("com.google.android.apps.messaging")
    # Packages seen earlier are used until a launch fails, then looked at again.
    assert phone.apps.resolve("com.google.android.apps.messaging") == (
        "com.google.android.apps.messaging"
    )
    # The launch fails, the packages are listed again, and the role's app is started (the
    # uiautomator APK has no launcher activity: the error names it, not Messages).
    with pytest.raises(AndroidInputError, match=r"cannot launch com\.github\.uiautomator"):
        phone.launch("com.google.android.apps.messaging")
    assert phone.apps.resolve("com.google.android.apps.messaging") == "com.github.uiautomator"
    assert phone.apps.resolve("com.android.calendar") == "com.android.calendar"


def test_an_unknown_profile_or_a_bad_package_is_a_config_error() -> None:
    with pytest.raises(ConfigInvalid, match=r"unknown app_profile 'pixel'; known: auto, virtual"):
        parse_config({"android": {"app_profile": "pixel"}})
    own = {"mine": {"messages": ["org.example.sms", "sms app"]}}
    with pytest.raises(ConfigInvalid, match=r"app_profiles\.mine\.messages: 'sms app' is not a"):
        parse_config({"android": {"app_profile": "mine", "app_profiles": own}})
