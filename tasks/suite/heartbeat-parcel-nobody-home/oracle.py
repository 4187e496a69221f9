"""Reference solution: at the 09:30 heartbeat read DHL's SMS, see in the phone's calendar
and the laptop's week plan that nobody is home today, redirect that parcel to the
neighbour the plan names (laptop curl, as ~/docs/parcels.md shows), tell the user."""

import json
import re
import shlex


def _curl(env, args):
    return json.loads(env.shell("laptop", f"curl -sn --max-time 30 {args}").stdout)


def solve(env):
    env.sleep_until("09:30")
    env.launch("phone", "messages")
    env.tap_text("phone", "DHL Paket")
    env.see("phone", "00340434161094021737")
    env.launch("phone", "calendar")
    env.find("phone", text="Präsenztag Büro (Lindgren Analytics)")
    plan = env.read_file("laptop", "/home/user/Documents/Familie/wochenplan.md")
    assert "Jonas in Hamburg" in plan, plan
    who = re.search(r"an (Frau Öztürk), (Travestraße 12, EG links)", plan)
    assert who, plan
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/parcels.md").stdout).group(1)
    body = json.dumps(
        {"to": "neighbour", "neighbour_name": who.group(1), "neighbour_address": who.group(2)}
    )
    done = _curl(
        env,
        f"-X POST {base}/shipments/00340434161094021737/redirect "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}",
    )
    assert "Öztürk" in (done["redirect"] or ""), done
    env.notify(
        "DHL brings the pram (Kinderwagen, parcel …1737) today 13:00–15:00, but you're in the "
        "office and Jonas is in Hamburg, so I redirected it to Frau Öztürk, Travestraße 12, "
        "EG links. The books parcel comes tomorrow when you're home; I left it."
    )
