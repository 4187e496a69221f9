"""Reference solution: today's train from the laptop's booking, then wait (real time) for
what the railway texts, reading the thread after each wait; tell the user as soon as her
train's change is there, not the other train's."""

import re


def solve(env):
    booking = env.read_file("laptop", "/home/user/Documents/Reisen/bahn-buchung-2026-03-17.txt")
    train = re.search(r"(ICE \d+)\s+Berlin Hbf ab 17:12, Gleis 14", booking)
    assert train, booking
    pattern = re.compile(rf"{train.group(1)} \(Berlin Hbf 17:12.*heute ab (Gleis \d+)")
    for _ in range(12):
        env.wait()
        env.launch("phone", "messages")
        env.tap_text("phone", "DB Reiseinfo")
        found = [m for t in env.screen_text("phone") if (m := pattern.search(t))]
        if found:
            break
    else:
        raise AssertionError("the platform change never came")
    env.notify(
        f"Your {train.group(1)} to Leipzig (17:12) now leaves from {found[-1].group(1)} "
        "instead of Gleis 14."
    )
