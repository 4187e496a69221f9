"""Reference solution: read Jonas's SMS in the phone's Messages app, look through the
velour pads' price histories with curl on the laptop, order the one that cost 19,99 in
January, two of them."""

import json
import re
import shlex


def _curl(env, args):
    return json.loads(env.shell("laptop", f"curl -sn --max-time 30 {args}").stdout)


def solve(env):
    env.launch("phone", "com.google.android.apps.messaging")
    env.tap_text("phone", "Jonas Fischer")
    env.see("phone", "Velours", "19,99", "2 Paar")
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/shop.md").stdout).group(1)
    meant = []
    for product in _curl(env, f"'{base}/products?q=Ohrpolster'"):
        if "velours" not in product["name"].lower():
            continue
        history = _curl(env, f"{base}/products/{product['id']}/prices")
        if any(p["at"].startswith("2026-01") and abs(p["price"] - 19.99) < 0.005 for p in history):
            meant.append(product)
    assert len(meant) == 1, meant
    json_h = "-H 'Content-Type: application/json'"
    _curl(env, f"-X PUT {base}/cart/items/{meant[0]['id']} {json_h} -d '{{\"qty\": 2}}'")
    order = _curl(
        env,
        f"-X POST {base}/orders {json_h} -H 'Idempotency-Key: ohrpolster-jonas' "
        f"-d {shlex.quote(json.dumps({}))}",
    )
    assert order.get("status") == "placed", order
    env.answer(f"Ordered 2 x {meant[0]['name']} for Jonas (order {order['id']}).")
