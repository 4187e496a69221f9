"""Reference solution: in vim, delete the three marker lines and the phone's charger line
(search, dd), then :wq — checking the screen as a person watches vim."""


def solve(env):
    path = "~/notes/trip/packing-list.md"
    env.type_line("laptop", f"vim {path}", until="12L")  # vim's status line: 12 lines read
    # vim reads keys in order, so each search lands before its dd.
    for pattern, delete in (("^<<<<<<<", "dd"), ("^=======", "2dd"), ("^>>>>>>>", "dd")):
        env.keys("laptop", "Escape", "/", {"text": pattern}, "Enter", delete)
    screen = env.screen("laptop").text
    assert "- rain jacket\n- sunscreen SPF 50\n- 2× T-shirts" in screen, screen
    env.keys("laptop", "Escape", ":wq", "Enter")
    env.type_line("laptop", f"grep -c . {path} | sed 's/^/lines: /'", until="\nlines: 7")
