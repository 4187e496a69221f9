"""Reference solution: Jonas's SMS on the phone asks for last night's error; its line from
the laptop's log goes to his address (from the contacts) with msmtp."""

import re
import shlex


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", r"Jonas Fischer|0160 9876 5432|\+49 160 9876 5432", regex=True)
    env.see("phone", "genaue Fehlermeldung vom Foto-Backup von heute Nacht")
    log = env.read_file("laptop", "/home/user/logs/backup-photos.log")
    failed = [
        line for line in log.splitlines() if line.startswith("2026-03-16") and "FAILED" in line
    ]
    assert len(failed) == 1, log
    env.shell("laptop", "vdirsyncer sync", timeout=120)
    card = env.shell("laptop", "khard email Jonas").stdout
    address = re.search(r"jonas\.fischer@mailbox\.example", card)
    assert address, card
    message = (
        f"To: {address.group(0)}\n"
        "Subject: Foto-Backup heute Nacht: Fehlermeldung\n\n"
        "Hallo Jonas,\n\nhier die Zeile aus ~/logs/backup-photos.log von heute Nacht:\n\n"
        f"{failed[0]}\n\nLiebe Grüße, Maya\n"
    )
    env.write_file("laptop", "/tmp/backup-error-mail.txt", message)
    env.shell("laptop", f"msmtp -t < {shlex.quote('/tmp/backup-error-mail.txt')}", timeout=60)
