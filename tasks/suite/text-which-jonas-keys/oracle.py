"""Reference solution: ask which Jonas is meant (nothing on the phone can tell), then
text him in his conversation."""

import re


def solve(env):
    reply = env.ask_user("Which Jonas do you mean: Jonas Weber, Jonas Berg or Jonas Fischer?")
    name = re.search(r"Jonas (Weber|Berg|Fischer)", reply)
    assert name, reply
    env.launch("phone", "messages")
    env.tap_text("phone", name.group(0))
    env.tap_text("phone", "Text message")
    env.type("phone", "I found your keys in my car! I'll bring them along on Thursday.")
    env.tap_text("phone", "Send")
