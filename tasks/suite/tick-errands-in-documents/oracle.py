"""Reference solution: find the list in ~/Documents, tick exactly the two errands."""


def solve(env):
    found = env.shell("laptop", "grep -rl 'Packstation' ~/Documents")
    assert found.stdout.strip() == "/home/user/Documents/errands.md", found.stdout
    env.shell(
        "laptop",
        "sed -i -e 's/^- \\[ \\] Packstation 128:/- [x] Packstation 128:/'"
        " -e 's/^- \\[ \\] Dry cleaner: bring the coat/- [x] Dry cleaner: bring the coat/'"
        " ~/Documents/errands.md",
    )
    shown = env.shell("laptop", "cat ~/Documents/errands.md").stdout
    assert "- [x] Packstation 128" in shown and "- [ ] Dry cleaner: collect" in shown, shown
