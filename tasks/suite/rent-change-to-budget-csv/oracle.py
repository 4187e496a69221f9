"""Reference solution: read the landlord's SMS in the messages app, then change only the
rent row of the CSV with one sed on the laptop."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", "HarbordPM")
    env.see("phone", "to $1,985.00/month")
    path = "~/notes/finance/budget-2026.csv"
    env.shell("laptop", f"sed -i 's/^rent,1890\\.00,/rent,1985.00,/' {path}")
    rows = env.shell("laptop", f"cat {path}")
    assert "rent,1985.00," in rows.stdout, rows.stdout
