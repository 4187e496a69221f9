"""Reference solution: sleep until the heartbeat in the hour before the Hort closes,
read the Hort's SMS and the calendar's pickup, remind; change nothing."""


def solve(env):
    env.sleep_until("13:30")
    env.launch("phone", "messages")
    env.tap_text("phone", "Hort Traveplatz")
    env.see("phone", "bereits um 14:30")
    env.launch("phone", "calendar")
    env.find("phone", text="Emil abholen (Hort)")
    env.notify(
        "Reminder: the Hort closes early today — Emil has to be picked up by 14:30, "
        "not at 15:30 as in your calendar (staff meeting, per the Hort's SMS)."
    )
