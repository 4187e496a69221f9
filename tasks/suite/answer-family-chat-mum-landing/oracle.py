"""Reference solution: read the mother's SMS in the phone's Messages app (the later one
rebooks to 15:20), list the chats' last messages with matrix-commander on the laptop, find
Jonas's question in the family room and answer it there."""

import re
import shlex


def _mc(env, args):
    # Each call is a whole Python program start: tens of seconds in a loaded TCG guest.
    return env.shell("laptop", f"matrix-commander {args}", timeout=600).stdout


def solve(env):
    env.launch("phone", "com.google.android.apps.messaging")
    env.tap_text("phone", "Renate Fischer")
    texts = "\n".join(env.see("phone", "umgebucht"))
    assert re.search(r"erst um 15:20", texts), texts
    rooms = _mc(env, "--joined-rooms").split()
    tails = _mc(env, f"--tail 10 -r {' '.join(shlex.quote(r) for r in rooms)}")
    # "Message received for room NAME [ID] | sender NAME [ID] | TIME | TEXT"
    asked = re.findall(r"for room Familie \[(\S+)\] \| sender Jonas.*Wann landet", tails)
    assert asked, tails
    answer = "Mama landet Samstag um 15:20 (Terminal 1, EW 8051, umgebucht)."
    _mc(env, f"-m {shlex.quote(answer)} -r {shlex.quote(asked[-1])}")
