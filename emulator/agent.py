"""uiautomator2's device agent on AVDs and attached phones, started through uiautomator2's
own public setup (``uiautomator2.connect``: it pushes its ``u2.jar``, launches it with
``app_process`` and waits for ``/ping``).

The agent gives fast hierarchy dumps and Unicode typing (clipboard paste). Where it will
not start, the ADB Keyboard IME types Unicode instead; a device with neither cannot take
the rig's typing, and :func:`start_agent` says what to install.
"""

from __future__ import annotations

from typing import Any, Literal

from emulator.errors import DeviceUnfit

ADB_KEYBOARD_PACKAGE = "com.android.adbkeyboard"
INSTALL_HINT = (
    "install uiautomator2 on the host (pip install 'uiautomator2>=3.2,<4'; it starts its "
    "agent itself), or the ADB Keyboard on the device (list ADBKeyboard.apk in "
    "[android] apks, or adb install it)"
)

TextPath = Literal["uiautomator2", "adbkeyboard"]


def start_agent(device: Any) -> TextPath:
    """Make sure ``device`` (an :class:`~emulator.device.AdbAndroidDevice`) can type any text.

    Returns which path types Unicode. The agent uiautomator2 starts lives as long as the
    device's adb connection (or until :func:`stop_agent`).
    """
    if device.u2_available():
        return "uiautomator2"
    why = _start_u2(device)
    if device.u2_available(recheck=True):
        return "uiautomator2"
    if device.has_package(ADB_KEYBOARD_PACKAGE):
        return "adbkeyboard"
    raise DeviceUnfit(
        f"{device.serial}: uiautomator2's agent did not start ({why}) and the ADB Keyboard "
        f"({ADB_KEYBOARD_PACKAGE}) is not installed, so Unicode text cannot be typed: "
        + INSTALL_HINT
    )


def _start_u2(device: Any) -> str:
    """Run uiautomator2's setup against the device's own adb connection; the reason it
    failed, or ``"started"``."""
    try:
        import uiautomator2
    except ImportError as exc:
        return f"uiautomator2 is not installed on the host: {exc}"
    try:
        device.u2_client = uiautomator2.connect(device.adb_device)
    except Exception as exc:  # its setup raises many kinds; the text is what the user needs
        first = (str(exc).strip().splitlines() or [""])[0]
        return f"uiautomator2 setup failed: {type(exc).__name__}: {first}"[:300]
    return "started"


def stop_agent(device: Any) -> None:
    """Stop an agent :func:`start_agent` started (an attached phone is left as it was lent)."""
    client = getattr(device, "u2_client", None)
    if client is None:
        return
    device.u2_client = None
    try:
        client.stop_uiautomator(wait=False)
    except Exception:  # the device may be gone already; nothing is left to stop then
        pass
