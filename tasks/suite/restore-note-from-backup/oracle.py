"""Reference solution: find the newest backup that holds the note, copy it back."""


def solve(env):
    found = env.shell("laptop", "ls -1d ~/Backups/*/notes/steuer-2025-checkliste.md | sort")
    newest = found.stdout.split()[-1]
    assert "2026-03-10" in newest, found.stdout
    env.shell("laptop", f"cp -p '{newest}' ~/notes/")
