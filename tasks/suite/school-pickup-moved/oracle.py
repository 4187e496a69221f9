"""Reference solution: read the school's SMS and the calendar through their apps, then
notify the user; nothing on the phone changes."""


def solve(env):
    env.launch("phone", "com.google.android.apps.messaging")
    env.tap_text("phone", r"^\+49 30 2961 7740$", regex=True)
    texts = env.screen_text("phone")
    assert any("12:15" in t for t in texts), texts
    env.launch("phone", "com.android.calendar")
    texts = env.screen_text("phone")
    assert any("Pick up Emil" in t for t in texts), texts
    env.notify(
        "School ends early on Wednesday 18 March: please pick up Emil at 12:15, "
        "not 16:00 as your calendar says. I changed nothing."
    )
