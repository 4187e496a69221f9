"""Reference solution: read the confirmation (not the offer) on the laptop, then create
the entry through the phone's calendar app."""


def replace_field(env, current: str, new: str) -> None:
    env.tap_text("phone", current)
    env.key("phone", "move_end")
    for _ in current:
        env.key("phone", "del")
    env.type("phone", new)


def solve(env):
    mail = env.shell("laptop", "mshow $(grep -rl 'confirm-2214@' ~/Mail/INBOX)")
    assert "6:15 PM" in mail.stdout and "2250 Bloor St W" in mail.stdout, mail.stdout
    env.launch("phone", "com.android.calendar")
    env.tap_desc("phone", "New event")
    env.tap_text("phone", "Title")
    env.type("phone", "Physio – knee follow-up")
    replace_field(env, "2026-03-16", "2026-03-19")
    replace_field(env, "09:00", "18:15")
    replace_field(env, "10:00", "19:00")
    env.tap_text("phone", "Location")
    env.type("phone", "Bloor West Physiotherapy, 2250 Bloor St W, Toronto")
    env.tap_text("phone", "Save")
