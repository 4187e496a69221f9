"""Reference solution: read Jonas's question, look the lesson up in the calendar app,
and reply in his conversation."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", "Jonas Fischer")
    env.see("phone", "swimming tomorrow")
    env.launch("phone", "calendar")
    env.see("phone", "16:45 – 17:30")
    env.launch("phone", "messages")
    env.tap_text("phone", "Jonas Fischer")
    env.tap_text("phone", "Text message")
    env.type("phone", "Swimming is tomorrow at 16:45 (until 17:30), Stadtbad Friedrichshain.")
    env.tap_text("phone", "Send")
