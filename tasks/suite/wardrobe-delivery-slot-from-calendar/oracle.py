"""Reference solution: look at Saturday in the phone's calendar (away from 13:00), list
the wardrobe's delivery slots with curl on the laptop and choose the one before then."""

import json
import re
import shlex


def _curl(env, args):
    return json.loads(env.shell("laptop", f"curl -sn --max-time 30 {args}").stdout)


def solve(env):
    env.launch("phone", "com.android.calendar")
    env.find("phone", text=r"Emils Geburtstagsfeier.*", regex=True)
    env.see("phone", "13:00")  # Saturday: at grandma's from 13:00, nothing before
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/parcels.md").stdout)
    base = base.group(1)
    wardrobe = [s for s in _curl(env, f"{base}/shipments") if "Kleiderschrank" in s["description"]]
    assert len(wardrobe) == 1, wardrobe
    sid = wardrobe[0]["id"]
    slots = _curl(env, f"{base}/shipments/{sid}/slots")
    morning = [s for s in slots if s["end"][11:16] <= "13:00"]
    assert len(morning) == 1, slots
    body = json.dumps({"slot_id": morning[0]["id"]})
    chosen = _curl(
        env,
        f"-X POST {base}/shipments/{sid}/slot -H 'Content-Type: application/json' "
        f"-d {shlex.quote(body)}",
    )
    assert chosen.get("slot_id") == morning[0]["id"], chosen
    env.answer(f"The wardrobe ({sid}) comes on Saturday between 08:00 and 12:00.")
