"""Reference solution: read the confirmation (not the offer) on the laptop, then create
the entry on that day through the phone's calendar app (day view, New event)."""


def solve(env):
    mail = env.mail("laptop", "confirm-2214@")
    assert "6:00 PM – 7:00 PM" in mail and "2250 Bloor St W" in mail, mail
    env.launch("phone", "calendar")
    env.tap_text("phone", "Day")
    env.tap_until("phone", "Next day", shown="Thu, Mar 19, 2026")
    env.tap_desc("phone", "New event")
    # The form opens on that day with 18:00–19:00 already filled in: exactly the slot.
    env.see("phone", "2026-03-19", "18:00", "19:00")
    env.tap_text("phone", "Title")
    env.type("phone", "Physio – knee follow-up")
    env.tap_text("phone", "Location")
    env.type("phone", "Bloor West Physiotherapy, 2250 Bloor St W, Toronto")
    env.tap_text("phone", "Save")
