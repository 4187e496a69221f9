"""Reference solution: sleep to the first heartbeat after the mail (11:00), read it on the
laptop, see the 1:1 at 15:00 in the synced work calendar and the dentist at 15:00 in the
phone's calendar; tell the user, change nothing."""


def solve(env):
    env.sleep_until("11:00")
    env.shell("laptop", "mbsync -a")
    mail = env.mail("laptop", "1on1-moved-2026-03-17@lindgren-analytics.example")
    assert "from 14:00 to 15:00" in mail, mail
    env.shell("laptop", "vdirsyncer sync")
    day = env.shell("laptop", "khal list today today").stdout
    assert "15:00-15:30 1:1 Tobias / Maya" in day, day
    env.launch("phone", "calendar")
    env.find("phone", text="Zahnarzt – Dr. Baumann 🦷")
    env.notify(
        "Clash today at 15:00: Tobias moved your 1:1 from 14:00 to 15:00–15:30, but you "
        "are at the dentist (Dr. Baumann, 15:00–15:45, Boxhagener Str. 12). I changed "
        "nothing and did not answer him."
    )
