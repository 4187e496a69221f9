"""Reference solution: read the plan, then add one line to the user's crontab (keeping
whatever is already there)."""


def solve(env):
    plan = env.shell("laptop", "cat ~/notes/admin/photo-backup.md")
    assert "Mon–Fri at 02:30" in plan.stdout, plan.stdout
    line = "30 2 * * 1-5 rsync -a --delete ~/Photos/ /mnt/nas/photos/"
    env.shell("laptop", f"(crontab -l 2>/dev/null; echo '{line}') | crontab -")
    assert line in env.shell("laptop", "crontab -l").stdout
