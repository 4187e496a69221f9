"""Reference solution: the rota on the laptop (primary the week of 23 March), Naomi's
SMS on the phone (the wedding on Sat 28 March, overnight in Hakone, no signal); notify,
change nothing."""

import csv
import io


def solve(env):
    text = env.read_file("laptop", "/home/user/oncall/rota-2026.csv")
    rows = csv.DictReader(
        io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#")))
    )
    primary = [r["week_start"] for r in rows if r["primary"] == "Aiko Tanaka"]
    assert "2026-03-23" in primary, primary
    env.launch("phone", "messages")
    env.tap_text("phone", r"Naomi Fujita|070 3333 4444|\+81 70 3333 4444", regex=True)
    env.see("phone", "3/28(土)の結婚式", "箱根")
    env.notify(
        "On-call clash: you are primary on-call the week of 23 March (rota in ~/oncall: "
        "laptop within reach, ack within 15 min), but Naomi's wedding on Saturday 28 March "
        "is an overnight stay in Hakone with hardly any signal (meet on the 27th). Ask for "
        "a swap in #sre-oncall. I didn't change anything."
    )
