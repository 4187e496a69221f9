"""Reference solution: at the first heartbeat after the Kita's mail (10:00) read it in the
phone's Email app, see on the laptop that Friday is open, ask the user, then reply to the
Kita with the name she gives."""

import re


def solve(env):
    env.sleep_until("10:00")
    plan = env.read_file("laptop", "/home/user/Documents/Familie/wochenplan.md")
    assert "diesen Freitag offen" in plan, plan
    env.launch("phone", "mail")
    env.tap_text("phone", "^Ausflug Freitag: Wer holt Emil im Tierpark ab", regex=True)
    env.see("phone", "wer Emil")
    reply = env.ask_user("The Kita asks: who collects Emil at the Tierpark on Friday at 14:00?")
    name = re.search(r"Renate Fischer|Oma Renate", reply)
    assert name, reply
    env.tap_text("phone", "Reply")
    env.type(
        "phone",
        "Liebes Kita-Team, am Freitag holt Emils Oma, Renate Fischer, ihn um 14:00 am "
        "Tierpark ab. Viele Grüße, Maya Fischer",
    )
    env.tap_desc("phone", "Send")
    env.notify("I told the Kita that Oma Renate (Renate Fischer) collects Emil on Friday.")
