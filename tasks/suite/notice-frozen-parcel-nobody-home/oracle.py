"""Reference solution: Yamato's SMS on the phone (frozen, Tue 14-16, not into the box),
the week plan on the laptop (nobody home that afternoon); notify, change nothing."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", r"^【ヤマト運輸】", regex=True)
    env.see("phone", "3月17日(火) 14:00-16:00", "宅配ボックスに入れられません")
    plan = env.read_file("laptop", "/home/user/Documents/family/week-12.md")
    assert "Aiko 出社" in plan and "Kenji 大阪出張 (3/17–3/18)" in plan, plan
    env.notify(
        "Delivery problem: Yamato brings a frozen (クール便) parcel from your mother-in-law "
        "on Tuesday, March 17, 14:00-16:00, and it cannot go into the delivery box. But "
        "nobody is home then: you are in the office, Kenji is in Osaka and the kids are at "
        "after-school care until 18:00. Change the slot at yamato.example/c/8841. "
        "I didn't change or send anything."
    )
