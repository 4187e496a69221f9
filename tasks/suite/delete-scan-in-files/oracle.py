"""Reference solution: open the folder in Files, open the exact file, delete it."""

from rig import actions as A


def tap_last(env, text: str) -> None:
    """Tap the last element showing ``text`` (a dialog's button sits above the screen's)."""
    env.screen_text("phone")
    ids = [e.id for e in env.env.elements("phone") if e.text == text]
    assert ids, f"nothing shows {text!r}"
    env.do(A.Tap(device="phone", element=ids[-1]))


def solve(env):
    env.launch("phone", "files")
    env.tap_text("phone", "Documents")
    env.tap_text("phone", "Receipts")
    env.tap_text("phone", "^scan_0412\\.pdf$", regex=True)
    env.see("phone", "/sdcard/Documents/Receipts")
    env.tap_text("phone", "Delete")
    tap_last(env, "Delete")  # the confirmation dialog's button
    left = env.screen_text("phone")
    assert "scan_0412 (1).pdf" in left and "scan_0412.pdf" not in left, left
