"""Reference solution: at the first heartbeat after the booking (11:00) list the account's
Urban Sports Club bookings with curl on the laptop, compare with the contract (one 59,00 €
a month, on the 5th), tell the user; move no money."""

import json
import re


def _curl(env, args):
    return json.loads(env.shell("laptop", f"curl -sn --max-time 30 {args}").stdout)


def solve(env):
    env.sleep_until("11:00")
    contract = env.read_file("laptop", "/home/user/Documents/Verträge/urban-sports-club.txt")
    assert "59,00 € monatlich" in contract and "zum 5." in contract, contract
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/bank.md").stdout).group(1)
    account = _curl(env, f"{base}/accounts")[0]["id"]
    rows = _curl(env, f"'{base}/accounts/{account}/transactions?q=Urban&since=2026-03-01'")
    march = [r for r in rows if "03/2026" in (r.get("reference") or "")]
    assert len(march) == 2, rows
    days = sorted(r["booked_at"][:10] for r in march)
    assert days == ["2026-03-05", "2026-03-17"], days
    env.notify(
        "Urban Sports Club charged March twice: 59,00 € on 05.03.2026 and again 59,00 € "
        "today (17.03., reference 'sport 03/2026'). Your contract is one 59,00 € a month on "
        "the 5th — you may want to ask them to refund the second one. I moved no money."
    )
