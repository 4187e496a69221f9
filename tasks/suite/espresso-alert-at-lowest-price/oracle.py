"""Reference solution: find the machine, read its price history, compare today's price
with the lowest of the last three months and, as it is higher, set an alert there."""

import json
import re
import shlex


def _curl(env, args):
    return json.loads(env.shell("laptop", f"curl -sn --max-time 30 {args}").stdout)


def solve(env):
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/shop.md").stdout).group(1)
    found = [p for p in _curl(env, f"'{base}/products?q=bellina'") if p["shop"] == "Kaffeehaus"]
    assert len(found) == 1, found
    product = found[0]
    history = _curl(env, f"{base}/products/{product['id']}/prices")
    recent = [h["price"] for h in history if h["at"] >= "2025-12-16"]
    lowest = min(recent)
    assert product["price"] > lowest, (product, lowest)
    body = json.dumps({"product_id": product["id"], "target_price": lowest})
    alert = _curl(
        env, f"-X POST {base}/alerts -H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )
    assert alert["target_price"] == lowest, alert
    env.answer(
        f"It costs {product['price']:.2f} € now; the lowest in three months was "
        f"{lowest:.2f} €, so I set a price alert at {lowest:.2f} € and did not order."
    )
