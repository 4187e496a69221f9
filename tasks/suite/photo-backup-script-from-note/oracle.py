"""Reference solution: read Maya's line in the Markor note, write the script on the
laptop and make it executable (never run it)."""

import re


def solve(env):
    env.launch("phone", "notes")
    env.tap_text("phone", "nas-fotos.md")
    text = "\n".join(env.see("phone", "Für Mayas Laptop"))
    mine = re.search(r"Für Mayas Laptop:\s*\n(rsync [^\n]+)", text)
    assert mine and "/maya/" in mine.group(1), text
    script = f"#!/bin/bash\n# Photos to the NAS (from Jonas's note)\n{mine.group(1).strip()}\n"
    env.shell("laptop", "mkdir -p ~/bin")
    home = env.shell("laptop", "echo $HOME").stdout.strip()
    env.write_file("laptop", f"{home}/bin/backup-photos.sh", script)
    env.shell("laptop", "chmod 755 ~/bin/backup-photos.sh")
