"""Reference solution: the shop's number from the quote mail on the laptop, then the
given text in that number's conversation."""

import re


def solve(env):
    mail = env.mail("laptop", "kv-2291@radwerk-friedrichshain.example")
    number = re.search(r"per SMS, sobald es fertig ist \((0[\d ]+)\)", mail)
    assert number, mail
    env.launch("phone", "messages")
    national = number.group(1)
    env.tap_text("phone", rf"{national}|\+49 {national[1:]}", regex=True)
    env.see("phone", "Wann holen Sie es ab?")
    env.tap_text("phone", "Text message")
    env.type("phone", "Passt, ich hole das Rad am Donnerstag um 18 Uhr ab.")
    env.tap_text("phone", "Send")
