"""Reference solution: read the spending log in the phone's Files app, list March's
transactions with curl on the laptop, find the logged purchase booked twice, notify."""

import json
import re


def solve(env):
    env.launch("phone", "com.android.documentsui")
    env.tap_text("phone", "Documents")
    env.tap_text("phone", "Finanzen")
    env.tap_text("phone", "Ausgaben März.txt")
    logged = [
        m.groups()
        for t in env.see("phone", "Fahrradwerkstatt Rahn")
        for m in re.finditer(r"(\d\d)\.03\. (.+?) – .*?(\d+),(\d\d) €", t)
    ]
    assert len(logged) == 6, logged
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/bank.md").stdout).group(1)
    account = json.loads(env.shell("laptop", f"curl -sn {base}/accounts").stdout)[0]["id"]
    booked = json.loads(
        env.shell(
            "laptop", f"curl -sn '{base}/accounts/{account}/transactions?since=2026-03-01'"
        ).stdout
    )
    twice = []
    for day, shop, euros, cents in logged:
        amount = -float(f"{euros}.{cents}")
        same = [
            t
            for t in booked
            if t["counterparty"] == shop
            and abs(t["amount"] - amount) < 0.005
            and t["booked_at"].startswith(f"2026-03-{day}")
        ]
        logged_times = sum(1 for d, s, e, c in logged if (d, s, e, c) == (day, shop, euros, cents))
        if len(same) > logged_times:
            twice.append((day, shop, f"{euros},{cents}"))
    assert twice == [("11", "Fahrradwerkstatt Rahn", "64,90")], twice
    env.notify(
        "Fahrradwerkstatt Rahn charged you twice on 11.03.2026: two card payments of 64,90 € "
        "(your log has one). Ask them or your bank to refund the second payment."
    )
