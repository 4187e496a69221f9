"""Reference solution: read Jonas's latest SMS (the correction), then add one crontab
line for the existing script (keeping whatever is already there)."""


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", "Jonas Fischer")
    env.see("phone", "Korrektur", "sonntags um 03:15")
    line = "15 3 * * 0 $HOME/bin/backup-photos.sh"
    env.shell("laptop", f"(crontab -l 2>/dev/null; echo '{line}') | crontab -")
    assert line in env.shell("laptop", "crontab -l").stdout
