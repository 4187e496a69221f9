"""Reference solution: the present and its order on the laptop (note, then the shop's
mail for the tracking number), the matching DHL SMS on the phone, a reply to Jonas."""

import re


def solve(env):
    note = env.read_file("laptop", "/home/user/notes/emil-geburtstag.md")
    order = re.search(r"Geschenk von uns: .*Nr\. (T\d+-\d+)", note)
    assert order, note
    mail = env.mail("laptop", f"versand-{order.group(1)}@shop.lego.example")
    tracking = re.search(r"Sendungsnummer DHL: ([\d ]+)", mail)
    assert tracking, mail
    digits = tracking.group(1).replace(" ", "").strip()
    env.launch("phone", "messages")
    env.tap_text("phone", r"^DHL: Ihre Sendung", regex=True)
    texts = env.see("phone", digits)
    sms = next(t for t in texts if digits in t)
    pin = re.search(r"Abhol-PIN (\d{4}), abholbar bis (\d\d\.\d\d\.)", sms)
    assert pin and "Boxhagener Str. 75" in sms, sms
    env.key("phone", "back")  # from the DHL conversation to the list
    env.tap_text("phone", r"Jonas Fischer|0160 9876 5432|\+49 160 9876 5432", regex=True)
    env.tap_text("phone", "Text message")
    env.type(
        "phone",
        f"Danke! Emils LEGO liegt in der Postfiliale im REWE, Boxhagener Str. 75. "
        f"Abhol-PIN {pin.group(1)}, abholbar bis {pin.group(2)} (Sendung …{digits[-4:]}).",
    )
    env.tap_text("phone", "Send")
