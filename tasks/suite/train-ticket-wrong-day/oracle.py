"""Reference solution: see tomorrow's workshop in the calendar, find the ticket mail on
the laptop, notice the dates differ, notify."""

import re


def solve(env):
    env.launch("phone", "calendar")
    env.see("phone", "Workshop München")
    mail = env.shell(
        "laptop", "for f in $(grep -rl 'Auftrag 8841' ~/Mail/INBOX); do mshow \"$f\"; done"
    )
    m = re.search(r"Hinfahrt: \w+, (\d\d\.\d\d\.\d{4}), (ICE \d+)", mail.stdout)
    assert m, mail.stdout
    env.notify(
        f"Your train ticket ({m.group(2)}) is for {m.group(1)}, but the Munich workshop is "
        "tomorrow, 17.03.2026 at 10:00. Rebook the ticket for tomorrow morning."
    )
