"""Reference solution: read the bill list, then look for each payee's March payment in
the joint account's CSV export."""

import csv
import io


def solve(env):
    note = env.read_file("laptop", "/home/user/notes/finance/household-bills.md")
    payees = {"Kita Sonnenschein": "230.00", "HUK-COBURG": "96.40", "Wühlisch 31": "185.00"}
    for name in payees:
        assert name in note, note
    listing = env.shell("laptop", "ls ~/Documents/Bank/").stdout.split()
    joint = [name for name in listing if name.startswith("gemeinschaftskonto")]
    assert len(joint) == 1, listing
    export = env.read_file("laptop", f"/home/user/Documents/Bank/{joint[0]}")
    rows = list(csv.DictReader(io.StringIO(export, newline="")))
    march = [r for r in rows if r[next(iter(r))].startswith("2026-03")]
    unpaid = [
        (name, amount)
        for name, amount in payees.items()
        if not any(name in " ".join(r.values()) and amount in " ".join(r.values()) for r in march)
    ]
    assert [u[0] for u in unpaid] == ["HUK-COBURG"], (unpaid, march)
    env.answer("Still unpaid this month: HUK-COBURG Haftpflicht, 96,40 € (due on the 10th).")
