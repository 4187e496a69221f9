"""Reference solution: read the signature on the laptop, then create the contact through
the contacts app's form."""

import re


def solve(env):
    mail = env.mail("laptop", "q-8841@hikari")
    number = re.search(r"Mobile: (\+[\d ]+)", mail)
    assert number and "kenta.sato@hikari-movers.example" in mail, mail
    env.launch("phone", "contacts")
    env.tap_desc("phone", "Add contact")
    env.tap_text("phone", "First name")
    env.type("phone", "Kenta")
    env.tap_text("phone", "Last name")
    env.type("phone", "Sato")
    env.tap_text("phone", "Phone")
    env.type("phone", number.group(1).strip())
    env.tap_text("phone", "Email")
    env.type("phone", "kenta.sato@hikari-movers.example")
    env.tap_text("phone", "Save")
