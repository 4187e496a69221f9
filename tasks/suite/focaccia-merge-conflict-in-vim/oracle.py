"""Reference solution, all at the terminal: merge, resolve the conflict in vim (her oven
temperature, my baking time), then commit, where git opens vim for the message."""


def solve(env):
    env.type_line("laptop", "cd ~/src/recipes && git merge oven-fix", until="fix conflicts")
    env.type_line("laptop", "vim focaccia.md", until="<<<<<<< HEAD")
    # The conflict: <<<<<<<, Oven 230, Bake 25, =======, Oven 220, Bake 20, >>>>>>>.
    env.keys("laptop", "/", {"text": "^<<<<<<<"}, "Enter", "3dd", "dd")  # ours' lines + =======
    env.keys("laptop", "j", {"text": ":s/20 min/25 min/"}, "Enter", "j", "dd")
    screen = env.screen("laptop").text
    assert "- Oven: 220 °C\n- Bake: 25 min\n- Olive oil" in screen, screen
    env.keys("laptop", "Escape", ":wq", "Enter")
    env.type_line("laptop", "git add focaccia.md && git commit", until="Merge branch 'oven-fix'")
    env.keys("laptop", "Escape", ":wq", "Enter", until="] Merge branch 'oven-fix'")
    log = env.shell("laptop", "git -C ~/src/recipes log --oneline -3").stdout
    assert "Merge branch 'oven-fix'" in log, log
