"""The notification shade: pulled down from the status bar, fed by unread SMS and missed calls."""

from __future__ import annotations

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui.system import LAUNCHER, UiSystem
from tests.sim_ui.screen import dark_pixels, find, find_all, tap
from tests.sim_ui.test_apps import add_contact


def pull_down(ui: UiSystem) -> None:
    ui.swipe(540, 20, 540, 1400, 300)


def test_shade_opens_closes_and_toggles_settings(ctx: PhoneContext, ui: UiSystem) -> None:
    ui.start("com.android.calendar")
    pull_down(ui)
    assert find(ui, text="No notifications")
    assert not find_all(ui, text="Agenda")  # the app behind is not in the dump
    wifi = find(ui, desc="Wi-Fi", cls="android.widget.Switch")
    before = wifi.attrs["checked"]
    ui.tap(*wifi.center)
    rows = ctx.providers.query("content://settings/global", ["value"], "name=?", ["wifi_on"])
    assert find(ui, desc="Wi-Fi").attrs["checked"] != before
    assert rows[0]["value"] == ("0" if before == "true" else "1")
    tap(ui, desc="Do Not Disturb")
    assert (
        ctx.providers.query("content://settings/global", ["value"], "name=?", ["zen_mode"])[0][
            "value"
        ]
        == "1"
    )
    assert ui.focus() == ("com.android.systemui", "NotificationShade")
    ui.keyevent(4)  # BACK closes the shade only
    assert ui.focus()[0] == "com.android.calendar"
    assert find(ui, text="Agenda")
    pull_down(ui)
    ui.swipe(540, 1400, 540, 300, 200)  # swipe up closes it
    assert find(ui, text="Agenda")
    assert ui.state()["shade"] is False


def test_unread_sms_is_a_notification_that_opens_its_thread(
    ctx: PhoneContext, ui: UiSystem
) -> None:
    add_contact(ctx, "Margaret Hamilton", "+1 617 555 0199")
    ctx.providers.insert(
        "content://sms/inbox",
        {"address": "+1 617 555 0199", "body": "Launch moved to 10:00", "read": 0},
    )
    ctx.providers.insert(
        "content://call_log/calls", {"number": "+1 617 555 0199", "type": 3, "new": 1}
    )
    home = ui.screenshot()
    glyph = (ui.m.dp(64), 0, ui.m.dp(100), ui.status_h)  # right of the clock's digits
    assert dark_pixels(home, glyph) > 0  # the status bar shows there is something
    pull_down(ui)
    rows = find_all(ui, rid="notification")
    assert len(rows) == 2
    assert find(ui, text="Launch moved to 10:00")
    assert find(ui, text="Missed call")
    tap(ui, text="Launch moved to 10:00")
    assert ui.focus()[1].endswith("ConversationActivity")
    assert find(ui, rid="message_text", text="Launch moved to 10:00")
    assert ctx.providers.query("content://sms", ["read"])[0]["read"] == 1
    pull_down(ui)
    assert [n.attrs["content-desc"] for n in find_all(ui, rid="notification")] == [
        "Phone notification: Missed call: Margaret Hamilton"
    ]
    tap(ui, text="Clear all")
    assert ui.state()["dismissed"] == ["call:1"]
    pull_down(ui)
    assert find(ui, text="No notifications")
    ui.keyevent(3)
    assert ui.focus()[0] == LAUNCHER and not ui.state()["shade"]
    assert dark_pixels(ui.screenshot(), glyph) == 0  # nothing left to see


def test_shade_state_survives_restore(ui: UiSystem) -> None:
    ui.open_shade()
    saved = ui.state()
    ui.close_shade()
    ui.restore(saved)
    assert find(ui, rid="notification_panel")


def test_a_failing_provider_posts_nothing_but_the_screen_draws(
    ctx: PhoneContext, ui: UiSystem, monkeypatch
) -> None:
    real = ctx.providers.query

    def query(uri: str, *args, **kwargs):
        if uri.startswith("content://sms"):
            raise RuntimeError("database is locked")
        return real(uri, *args, **kwargs)

    monkeypatch.setattr(ctx.providers, "query", query)
    assert ui.screenshot().size == (1080, 2400)
    pull_down(ui)
    assert find(ui, text="No notifications")
