"""Reference solution: sleep through the beats until the first one on 1 April (00:00), when
the bank has booked the rent's standing order; read the booking and the balance with curl
on the laptop, tell the user; move no money."""

import json
import re


def _curl(env, args):
    return json.loads(env.shell("laptop", f"curl -sn --max-time 30 {args}").stdout)


def solve(env):
    while env.beat.at.date().isoformat() < "2026-04-01":
        env.next_beat()
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/bank.md").stdout).group(1)
    account = _curl(env, f"{base}/accounts")[0]
    rows = _curl(env, f"'{base}/accounts/{account['id']}/transactions?q=Wohnungsbau'")
    april = [r for r in rows if r["booked_at"].startswith("2026-04-01")]
    assert len(april) == 1 and april[0]["amount"] == -1240.00, rows
    left = f"{account['balance']:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    env.notify(
        "Your April rent has gone out: 1.240,00 € to the Wohnungsbaugenossenschaft "
        f"Friedrichshain, booked on 01.04.2026 by your standing order. Left on the account: "
        f"{left} €. I moved no money."
    )
