"""Reference solution: read every mail from the plumber, keep the correction (which says
the first quote is void) and answer with its amount."""

import re


def solve(env):
    mails = env.shell(
        "laptop",
        "for f in $(grep -rl 'sanitaer-kowalczyk' ~/Mail/INBOX); do mshow \"$f\"; echo; done",
    )
    assert "Angebot Nr. 0311" in mails.stdout, mails.stdout
    price = re.search(r"Korrigierter Preis[^0-9]*(\d+,\d\d)", mails.stdout)
    assert price, mails.stdout
    env.answer(f"The corrected quote is {price.group(1)} € incl. VAT (the first one was wrong).")
