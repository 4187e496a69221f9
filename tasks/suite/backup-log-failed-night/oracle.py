"""Reference solution: grep the log for errors and answer with the night and reason."""

import re


def solve(env):
    errors = env.shell("laptop", "grep -E 'ERROR|FAILED' ~/logs/backup.log")
    m = re.search(r"^(\d{4}-\d\d-\d\d) .*ERROR .*: (No space left on device)", errors.stdout, re.M)
    assert m, errors.stdout
    env.answer(
        f"The backup of {m.group(1)} (night to 12 March) failed: rsync could not write to "
        f"/mnt/backup ({m.group(2)}), the backup disk is full. The warning on 10 March was "
        "a vanished cache file and harmless."
    )
