"""Reference solution: the returns list on the laptop names the jacket, the shop's mail
gives 30 days from delivery, Canada Post's SMS on the phone gives the delivery day;
notify, change nothing."""

import re


def solve(env):
    todo = env.read_file("laptop", "/home/user/Documents/todo/returns.md")
    assert "- [ ] Outdoor Supply rain jacket (OS-48213)" in todo, todo
    policy = env.mail("laptop", "os-48213-confirm@outdoorsupply.example")
    assert "within\n30 days of delivery" in policy or "30 days of delivery" in policy, policy
    env.launch("phone", "messages")
    env.tap_text("phone", r"^Canada Post: Your parcel from OUTDOOR SUPPLY", regex=True)
    texts = env.see("phone", "OUTDOOR SUPPLY CO")
    line = next(t for t in texts if "OUTDOOR SUPPLY CO" in t)
    delivered = re.search(r"delivered on Feb (\d+)", line)
    assert delivered and delivered.group(1) == "20", line
    # February 2026 has 28 days: Feb 20 + 30 days = March 22.
    env.notify(
        "Return deadline: the Outdoor Supply rain jacket (order OS-48213) is still on your "
        "returns list. Returns are accepted within 30 days of delivery and Canada Post "
        "delivered it on Feb 20, so start the return by Sunday, March 22 (label via "
        "outdoorsupply.example/returns). I didn't change or send anything."
    )
