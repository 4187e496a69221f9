"""Reference solution: read the school's SMS and the calendar through their apps, then
notify the user; nothing on the phone changes."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", r"^\+49 30 2961 7740$", regex=True)
    env.see("phone", "12:15")
    env.launch("phone", "calendar")
    env.see("phone", "Pick up Emil")
    env.notify(
        "School ends early on Wednesday 18 March: please pick up Emil at 12:15, "
        "not 16:00 as your calendar says. I changed nothing."
    )
