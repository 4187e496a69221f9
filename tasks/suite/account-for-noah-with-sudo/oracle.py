"""Reference solution: read the note, then create the account at the terminal, where
sudo asks for the password (the shell action has no terminal for that prompt)."""

PASSWORD = "maple-Lantern-42"


def solve(env):
    note = env.read_file("laptop", "/home/user/notes/admin/noah-account.md")
    assert "user name: `noah`" in note and "Noah Weber" in note, note
    env.type_line(
        "laptop",
        "sudo -k; sudo useradd --create-home --shell /bin/bash --comment 'Noah Weber' noah"
        " && echo account-''made",  # the quotes keep the typed line from matching `until`
        until="password for user",
    )
    env.keys("laptop", PASSWORD, "Enter", until="\naccount-made", timeout=20)
    env.type_line("laptop", "getent passwd noah | cut -d: -f5-", until="Noah Weber:/home/noah")
