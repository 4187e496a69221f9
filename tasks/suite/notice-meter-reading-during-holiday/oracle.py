"""Reference solution: the reading appointment in the phone's SMS, the holiday (and Lena,
who has the key) in the laptop's family plan; notify, change nothing."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", r"^Heizkosten-Ablesung Wühlischstr", regex=True)
    env.see("phone", "Termin Fr 20.03., 8–12 Uhr", "35,00 €")
    plan = env.read_file("laptop", "/home/user/Documents/Familie/urlaub-usedom.md")
    assert "Do 19.03. – So 22.03." in plan, plan
    env.notify(
        "Heads-up: the heating meter reading (Heizkosten-Ablesung) is on Friday 20.03., "
        "8-12, but you are on Usedom from 19.03. to 22.03. A second appointment costs "
        "35 €. Lena has your key (she waters the plants), so maybe she can "
        "let the reader in, or ask for another date. I didn't change or send anything."
    )
