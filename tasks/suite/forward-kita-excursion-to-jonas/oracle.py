"""Reference solution: Jonas's private address from the contacts, then Forward on the
zoo mail in the phone's Email app."""


def solve(env):
    env.launch("phone", "contacts")
    env.tap_text("phone", "Jonas Fischer")
    env.see("phone", "jonas.fischer@mailbox.example")
    env.launch("phone", "mail")
    env.tap_text("phone", "Ausflug in den Tierpark", regex=True)
    env.see("phone", "8,50 €")
    env.tap_text("phone", "Forward")
    env.type("phone", "jonas.fischer@mailbox.example")
    env.tap_desc("phone", "Send")
