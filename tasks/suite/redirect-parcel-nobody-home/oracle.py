"""Reference solution: list the shipments, take the one due on Wednesday 18 March, find
the locker at the station among the pickup points and redirect that parcel there."""

import json
import re
import shlex


def _curl(env, args):
    return json.loads(env.shell("laptop", f"curl -sn --max-time 30 {args}").stdout)


def solve(env):
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/parcels.md").stdout).group(1)
    due = [s for s in _curl(env, f"{base}/shipments") if (s["eta"] or "").startswith("2026-03-18")]
    assert len(due) == 1, due
    points = _curl(env, f"{base}/pickup-points")
    locker = next(p for p in points if "Bahnhof" in p["name"] or "Bahnhof" in p["address"])
    body = json.dumps({"to": "pickup_point", "pickup_point_id": locker["id"]})
    done = _curl(
        env,
        f"-X POST {base}/shipments/{due[0]['id']}/redirect "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}",
    )
    assert "pickup point" in (done["redirect"] or ""), done
    env.answer(f"The {due[0]['description']} parcel now goes to {locker['name']}.")
