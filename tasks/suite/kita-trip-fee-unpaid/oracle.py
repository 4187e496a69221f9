"""Reference solution: read the newest Kita letter in the Files app, check the laptop's
bank export for that payment, then notify."""


def solve(env):
    paid = env.shell("laptop", "grep -h 'Kita Sonnenblume' ~/Documents/Bank/*.csv")
    assert "Puppentheater Emil" in paid.stdout and "Tierpark" not in paid.stdout, paid.stdout
    env.launch("phone", "files")
    env.tap_text("phone", "Documents")
    env.tap_text("phone", "Kita")
    env.tap_text("phone", "Elternbrief Tierpark.txt")
    env.see("phone", "12,50 €", "Mittwoch, 18.03.", "Tierpark Emil")
    env.notify(
        "Kita trip fee not paid yet: transfer 12,50 € to Kita Sonnenblume e.V. "
        "(reference 'Tierpark Emil') by Wednesday 18.03. for the Tierpark trip on 25.03."
    )
