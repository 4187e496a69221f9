"""Reference solution: read the plumber's mails, take the corrected amount and the IBAN,
start the transfer with curl on the laptop, read the bank's code in the phone's Messages
app and confirm it on the laptop."""

import json
import re
import shlex
import time


def _curl(env, args):
    out = env.shell("laptop", f"curl -sn --max-time 30 {args}")
    return json.loads(out.stdout)


def solve(env):
    mails = env.shell(
        "laptop",
        "for f in $(grep -rl 'sanitaer-kowalczyk' ~/Mail/INBOX); do mshow \"$f\"; echo; done",
    ).stdout
    amount = re.search(r"Korrigierter Betrag:\s*(\d+),(\d\d)", mails)
    iban = re.search(r"IBAN ((?:[A-Z]{2}\d{2})(?: ?\d{4}){4} ?\d{2})", mails)
    assert amount and iban, mails
    base = re.search(r"API: (\S+)", env.shell("laptop", "cat ~/docs/bank.md").stdout).group(1)
    account = _curl(env, f"{base}/accounts")[0]["id"]
    body = {
        "from_account": account,
        "payee": {"name": "Sanitär Kowalczyk", "iban": iban.group(1).replace(" ", "")},
        "amount": f"{amount.group(1)}.{amount.group(2)}",
        "reference": "Rechnung 0311",
    }
    headers = "-H 'Content-Type: application/json' -H 'Idempotency-Key: rechnung-0311'"
    pending = _curl(env, f"-X POST {base}/transfers {headers} -d {shlex.quote(json.dumps(body))}")
    assert pending["status"] == "code_required", pending
    code = None
    for _ in range(10):  # the SMS arrives within a moment; the list shows its first words
        env.launch("phone", "messages")
        found = re.findall(r"(\d{6}) is your code", "\n".join(env.screen_text("phone")))
        if found:
            code = found[-1]
            break
        time.sleep(0.5)
    assert code, "no code on the phone"
    confirm = json.dumps({"code": code})
    done = _curl(
        env,
        f"-X POST {base}/transfers/{pending['id']}/confirm "
        f"-H 'Content-Type: application/json' -d {shlex.quote(confirm)}",
    )
    assert done["status"] == "done", done
    env.answer(
        f"Paid {amount.group(1)},{amount.group(2)} € to Sanitär Kowalczyk (corrected invoice)."
    )
