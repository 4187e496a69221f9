"""Reference solution: Jonas's SMS on the phone (from 16:15), the client call at 17:00 in
the laptop's calendar (khal), then a threaded reply to the teacher with msmtp."""

import re
import shlex

MID = "<elterngespraeche-3b@grundschule-traveplatz.example>"


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", r"Jonas Fischer|0160 9876 5432|\+49 160 9876 5432", regex=True)
    env.see("phone", "frühestens 16:15")
    env.shell("laptop", "mbsync -a && vdirsyncer sync", timeout=120)
    agenda = env.shell("laptop", "khal list 2026-03-19 1d").stdout
    assert re.search(r"17:00-17:45 Kundencall", agenda), agenda
    mail = env.mail("laptop", MID)
    offered = re.findall(r"\b(1[5-7]:[03]0)\b", mail)
    assert offered == ["15:00", "15:30", "16:00", "16:30", "17:00"], offered
    # Jonas from 16:15; a 20-minute talk must end before the 17:00 call.
    slot = next(t for t in offered if "16:15" <= t <= "16:40")
    message = (
        "To: s.oeztuerk@grundschule-traveplatz.example\n"
        "Subject: Re: Elterngespräche Klasse 3b: Termine am Donnerstag\n"
        f"In-Reply-To: {MID}\n"
        f"References: {MID}\n\n"
        "Liebe Frau Öztürk,\n\n"
        f"wir hätten gern den Termin am Donnerstag, 19.03., um {slot} Uhr. "
        "Jonas und ich kommen zusammen.\n\nViele Grüße\nMaya Fischer\n"
    )
    env.write_file("laptop", "/tmp/reply-oeztuerk.txt", message)
    env.shell("laptop", f"msmtp -t < {shlex.quote('/tmp/reply-oeztuerk.txt')}", timeout=60)
