"""Reference solution: read Jonas's mail, look the evening up in the calendar app, and
reply (not reply all) in his thread."""


def solve(env):
    env.launch("phone", "calendar")
    env.find("phone", text="Elternabend Klasse 2b")
    env.find("phone", text=r"^19:30 – 21:00", regex=True)  # the list scrolls to it
    env.launch("phone", "mail")
    env.tap_text("phone", "Elternabend – wann genau", regex=True)
    env.see("phone", "Ich hab noch 19 Uhr im Kopf")
    env.tap_text("phone", "Reply")
    env.type("phone", "Hi Jonas, der Elternabend ist am Mittwoch um 19:30 (bis 21 Uhr), Raum 104.")
    env.tap_desc("phone", "Send")
