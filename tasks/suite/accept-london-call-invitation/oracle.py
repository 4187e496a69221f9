"""Reference solution on the laptop's shell: read the invitation, convert 15:00 GMT to
16:00 CET, add it with khal and sync, reply threaded with msmtp."""


def solve(env):
    env.shell("laptop", "mbsync -a", timeout=120)
    inbox = "~/Maildir/cur/* ~/Maildir/new/*"  # the mbsync mirror's inbox
    found = env.shell("laptop", f"grep -l 'alumni-call-march@hannah-cole.example' {inbox}")
    paths = found.stdout.split()
    assert len(paths) == 1, paths
    mail = env.shell("laptop", f"mshow {paths[0]}").stdout
    assert "15:00–16:00 London time" in mail, mail
    env.shell(
        "laptop",
        "khal new 2026-03-22 16:00 17:00 'Alumni video call (Hannah)' && vdirsyncer sync",
        timeout=120,
    )
    listed = env.shell("laptop", "khal list 2026-03-22 1d")
    assert "16:00-17:00" in listed.stdout.replace(" ", ""), listed.stdout
    env.shell(
        "laptop",
        "printf 'To: Hannah Cole <hannah@hannah-cole.example>\\n"
        "Subject: Re: Invitation: alumni video call, Sunday 22 March\\n"
        "In-Reply-To: <alumni-call-march@hannah-cole.example>\\n"
        "References: <alumni-call-march@hannah-cole.example>\\n\\n"
        "Hi Hannah,\\n\\nI will join on Sunday, looking forward to it!\\n\\nMaya\\n' | msmtp -t",
    )
