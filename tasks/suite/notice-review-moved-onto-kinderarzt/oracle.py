"""Reference solution: read the new mail, compare the new time with the calendar,
notify the user, change nothing."""


def solve(env):
    env.launch("phone", "mail")
    env.tap_text("phone", "Q1 review moves to Thursday", regex=True)
    env.see("phone", "moves to Thursday,\n16:00–17:00")
    env.launch("phone", "calendar")
    env.find("phone", text="Kinderarzt: Emil U9")
    env.find("phone", text=r"^16:00 – 16:45", regex=True)
    env.notify(
        "Clash on Thursday: Tobias moved the Q1 review to 16:00-17:00, the same time as "
        "Emil's Kinderarzt appointment (U9, 16:00-16:45, Dr. Yilmaz). Your calendar still "
        "shows the review on Wednesday 14:00. I changed nothing."
    )
