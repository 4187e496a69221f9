"""Reference solution: find the note by its content, then mv it into the archive."""


def solve(env):
    found = env.shell("laptop", "grep -l 'Wohnungssuche' ~/notes/*.md")
    assert found.stdout.strip() == "/home/user/notes/wohnungssuche-2025.md", found.stdout
    env.shell(
        "laptop", "mkdir -p ~/notes/archive && mv ~/notes/wohnungssuche-2025.md ~/notes/archive/"
    )
