"""Reference solution: the Kita's SMS on the phone, the planned pickup in the calendar,
Jonas's trip in the laptop's family plan; notify, change nothing."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", "Kita Sonnenschein|030 2904 5566|\\+49 30 2904 5566", regex=True)
    env.see("phone", "bereits um 12:00 Uhr")
    env.launch("phone", "calendar")
    env.find("phone", text="Emil abholen (Jonas)")
    plan = env.read_file("laptop", "/home/user/Documents/Familie/wochenplan.md")
    assert "Jonas in Hamburg" in plan, plan
    env.notify(
        "Heads-up for tomorrow (Tue 17.03.): the Kita closes at 12:00 because of a team "
        "training, but your calendar has Jonas picking Emil up at 16:30, and Jonas is in "
        "Hamburg until Wednesday night. Someone needs to collect Emil by 12:00. "
        "I changed nothing."
    )
