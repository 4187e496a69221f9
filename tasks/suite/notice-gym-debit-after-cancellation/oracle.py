"""Reference solution: the cancellation SMS on the phone (ended 28.02., last debit
05.02.), the bank export on the laptop (a debit on 2026-03-05 all the same); notify,
change nothing."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", r"^Urban Sports Club: Hallo Maya", regex=True)
    env.see("phone", "endet am 28.02.2026", "am 05.02.")
    rows = env.shell("laptop", "grep -rh 'Urban Sports Club' ~/Documents/Bank/").stdout
    march = [r for r in rows.splitlines() if r.startswith("2026-03-05") and "-59.00" in r]
    assert len(march) == 1, rows
    env.notify(
        "Urban Sports Club took 59,00 € on 05.03.2026, although they confirmed by SMS that "
        "your membership ended on 28.02. with the last debit on 05.02. Ask them for a "
        "refund (or reverse the direct debit). I didn't change or send anything."
    )
