"""Reference solution: read Jonas's question, look the lesson up in the calendar app,
and reply in his conversation."""


def solve(env):
    env.launch("phone", "com.google.android.apps.messaging")
    env.tap_text("phone", "Jonas Fischer")
    texts = env.screen_text("phone")
    assert any("swimming tomorrow" in t for t in texts), texts
    env.launch("phone", "com.android.calendar")
    texts = env.screen_text("phone")
    assert any("16:45 – 17:30" in t for t in texts), texts
    env.launch("phone", "com.google.android.apps.messaging")
    env.tap_text("phone", "Jonas Fischer")
    env.tap_text("phone", "Text message")
    env.type("phone", "Swimming is tomorrow at 16:45 (until 17:30), Stadtbad Friedrichshain.")
    env.tap_text("phone", "Send")
