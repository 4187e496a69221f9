"""Guest: put a shell in a cgroup of its own (as root).

stdin: the shell's pid. Mounts cgroup2 at ``/sys/fs/cgroup`` when the guest has not
(no systemd here), makes ``clawrig/shell-PID`` and moves the pid in; prints the cgroup's
path. Whatever the shell starts later is born in it, and leaving it takes root, so a
process the agent put in a new session (``setsid``) is still found when the shell's
command times out or the shell ends.
"""

import os
import subprocess
import sys

ROOT = "/sys/fs/cgroup"


def mounted():
    with open("/proc/mounts") as f:
        return any(line.split()[1:3] == [ROOT, "cgroup2"] for line in f)


def main():
    pid = int(sys.stdin.read().strip())
    if not mounted():
        subprocess.run(["mount", "-t", "cgroup2", "cgroup2", ROOT], check=True)
    path = os.path.join(ROOT, "clawrig", f"shell-{pid}")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(f"{pid}\n")
    print(path)


main()
