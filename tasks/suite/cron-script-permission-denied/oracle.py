"""Reference solution: read the log, look at the script's mode, add the executable bit."""


def solve(env):
    log = env.shell("laptop", "tail -n 1 ~/cron.log")
    assert "Permission denied" in log.stdout, log.stdout
    mode = env.shell("laptop", "stat -c %a ~/bin/cleanup-downloads.sh")
    assert mode.stdout.strip() == "644", mode.stdout
    env.shell("laptop", "chmod u+x,go+rx ~/bin/cleanup-downloads.sh")
