"""Reference solution: today's booking on the laptop (not last week's), the railway's
delay SMS on the phone; sleep until the heartbeat in the hour before leaving (17:07 =
17:52 - 45 min), remind with the new time."""


def solve(env):
    ls = env.shell("laptop", "ls ~/Documents/Reisen").stdout
    assert "bahn-buchung-2026-03-17.txt" in ls, ls
    booking = env.read_file("laptop", "/home/user/Documents/Reisen/bahn-buchung-2026-03-17.txt")
    assert "ICE 1537  Berlin Hbf ab 17:12, Gleis 14" in booking, booking
    env.sleep_until("16:30")
    env.launch("phone", "messages")
    env.tap_text("phone", "DB Reiseinfo")
    env.see("phone", "neue Abfahrt Berlin Hbf 17:52")
    env.notify(
        "Time to go: your ICE 1537 to Leipzig leaves about 40 minutes late, at 17:52 from "
        "Berlin Hbf Gleis 14 (Wagen 7, Platz 45) — leave the office by about 17:05."
    )
