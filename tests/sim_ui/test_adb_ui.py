"""The screen through the real adb server: adbutils and uiautomator2 against a virtual phone."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest
import uiautomator2

from emulator.adb import AdbServer
from emulator.sim.phone import Phone
from emulator.sim.ui.system import UiSystem
from tests.sim_ui.screen import find

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phone]:
    with Phone(tmp_path_factory.mktemp("ui-phone")) as p:
        yield p


@pytest.fixture(scope="module")
def server() -> Iterator[AdbServer]:
    s = AdbServer.private()
    try:
        yield s
    finally:
        s.kill()


@pytest.fixture(scope="module")
def device(server: AdbServer, phone: Phone) -> adbutils.AdbDevice:
    return server.device(server.connect(phone.serial))


@pytest.fixture
def ui(phone: Phone) -> UiSystem:
    assert isinstance(phone.ctx.ui, UiSystem)
    phone.ctx.ui.home()
    return phone.ctx.ui


def test_adbutils_dump_click_screenshot(device: adbutils.AdbDevice, ui: UiSystem) -> None:
    xml = device.dump_hierarchy()
    assert xml == ui.hierarchy_xml()
    x, y = find(ui, text="Settings").center
    device.click(x, y)
    assert device.app_current().package == "com.android.settings"
    img = device.screenshot()
    assert img.size == (1080, 2400)
    assert img.convert("RGB").tobytes() == ui.screenshot().tobytes()  # not adbutils' black
    device.keyevent("KEYCODE_HOME")
    assert device.app_current().package == "com.google.android.apps.nexuslauncher"


def test_typed_note_reaches_the_file(
    device: adbutils.AdbDevice, ui: UiSystem, phone: Phone
) -> None:
    device.sync.push(b"start\n", "/sdcard/Documents/Notes/adb.md")
    device.shell(["monkey", "-p", "net.gsantner.markor", "1"])
    device.click(*find(ui, text="adb.md").center)
    device.click(*find(ui, rid="editor").center)
    device.shell(["input", "text", "it's $HOME and `id`"])
    device.click(*find(ui, text="Save").center)
    assert device.sync.read_bytes("/sdcard/Documents/Notes/adb.md") == (
        b"start\nit's $HOME and `id`"
    )


def test_uiautomator2_connect_info_dump_click(
    device: adbutils.AdbDevice,
    ui: UiSystem,
    phone: Phone,
    server: AdbServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # connect(serial) looks the serial up through adbutils' module-level client; point that
    # at our private server (never the shared one on 5037).
    monkeypatch.setattr(adbutils, "adb", server.client)
    d = uiautomator2.connect(phone.serial)
    # connect() pushed its jar (or found it by md5): the phone holds exactly the client's copy.
    jar = Path(uiautomator2.__file__).parent / "assets" / "u2.jar"
    on_phone = phone.ctx.vfs.read_bytes("/data/local/tmp/u2.jar")
    assert hashlib.md5(on_phone).hexdigest() == hashlib.md5(jar.read_bytes()).hexdigest()
    info = d.info
    assert info["currentPackageName"] == "com.google.android.apps.nexuslauncher"
    assert (info["displayWidth"], info["displayHeight"]) == (1080, 2400)
    assert d.dump_hierarchy() == ui.hierarchy_xml()
    d.click(*find(ui, text="Contacts").center)
    assert d.app_current()["package"] == "com.android.contacts"
    d(text="Add contact").click()
    d(resourceId="com.android.contacts:id/first_name").click()
    d.send_keys('Zoë "Q" 李')  # clipboard + paste, as uiautomator2 does without its IME
    assert find(ui, rid="first_name").text == 'Zoë "Q" 李'
    d(resourceId="com.android.contacts:id/last_name").set_text("$HOME `x`")
    assert find(ui, rid="last_name").text == "$HOME `x`"
    d(text="Save").click()
    names = phone.ctx.providers.query(
        "content://com.android.contacts/raw_contacts", ["display_name"]
    )
    assert {"display_name": 'Zoë "Q" 李 $HOME `x`'} in names
    shot = d.screenshot()
    assert shot.size == (1080, 2400)
    d.press("home")
    assert d.info["currentPackageName"] == "com.google.android.apps.nexuslauncher"
