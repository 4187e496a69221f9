"""Reference solution: read last night's result line in the log, then create the note
in Markor (New note, name, Create, type the line, Save)."""


def solve(env):
    log = env.shell("laptop", "grep '^2026-03-16 ' ~/logs/backup.log | grep -v ': started'")
    (line,) = log.stdout.strip().splitlines()
    env.launch("phone", "notes")
    env.tap_text("phone", "New note")
    env.tap_text("phone", "my-note.md")  # the name field, showing its hint
    env.type("phone", "backup-letzte-nacht.md")
    env.tap_text("phone", "Create")
    env.tap_text("phone", "Start writing…")  # the empty editor
    env.type("phone", line)
    env.tap_text("phone", "Save")
    env.see("phone", "No space left on device")
