"""Reference solution: read the cooperative's latest SMS on the phone, write a vCard into
the laptop's vdirsyncer mirror and sync it to the server."""

import re


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", r"WBG Friedrichshain|030 2901 4400|\+49 30 2901 4400", regex=True)
    texts = env.see("phone", "Dariusz Nowicki")
    sms = next(t for t in texts if "Dariusz Nowicki" in t)
    number = re.search(r"Nowicki Ihr Hausmeister, Tel\. ([\d ]+)", sms)
    assert number, sms
    national = number.group(1).strip()
    assert national == "0176 4455 2290", national
    env.shell("laptop", "vdirsyncer sync", timeout=120)
    card = "\r\n".join(
        [
            "BEGIN:VCARD",
            "VERSION:3.0",
            "UID:hausmeister-nowicki-2026",
            "FN:Dariusz Nowicki",
            "N:Nowicki;Dariusz;;;",
            f"TEL;TYPE=CELL:+49 {national[1:]}",
            "NOTE:Hausmeister ab 1. April (Mo–Fr 8–16 Uhr)",
            "END:VCARD",
            "",
        ]
    )
    env.write_file("laptop", "/home/user/.contacts/contacts/hausmeister-nowicki-2026.vcf", card)
    env.shell("laptop", "vdirsyncer sync", timeout=120)
    shown = env.shell("laptop", "khard show Nowicki").stdout
    assert "4455 2290" in shown or "44552290" in shown.replace(" ", ""), shown
