"""Reference solution on the laptop's shell: the accountant's address from khard, the
invoice (not the quote) forwarded with msmtp, then moved into Archive in the mbsync
mirror and synced back to the server."""

import shlex


def solve(env):
    env.shell("laptop", "mbsync -a && vdirsyncer sync", timeout=120)
    card = env.shell("laptop", "khard email Hartmann")
    assert "p.hartmann@stb-hartmann.example" in card.stdout, card.stdout
    found = env.shell("laptop", "grep -l 'Rechnung Nr. 2026-041' ~/Maildir/cur/* ~/Maildir/new/*")
    paths = found.stdout.split()
    assert len(paths) == 1, paths
    mail = shlex.quote(paths[0])
    env.shell(
        "laptop",
        "{ printf 'To: Petra Hartmann <p.hartmann@stb-hartmann.example>\\n"
        "Subject: Fwd: Rechnung Nr. 2026-041 Malerarbeiten\\n"
        "Content-Type: text/plain; charset=utf-8\\n\\n"
        "Liebe Frau Hartmann,\\n\\nanbei die Rechnung des Malers für die Steuer.\\n\\n"
        "---------- Weitergeleitete Nachricht ----------\\n'; "
        f"mshow {mail}; }} | msmtp -t",
    )
    # mbsync names the server's uid in the file name (,U=N): a moved copy drops it.
    env.shell(
        "laptop",
        f"f={mail}; n=$(basename \"$f\" | sed 's/,U=[0-9]*//'); "
        'mv "$f" ~/Maildir/.Archive/cur/"$n" && mbsync -a',
        timeout=120,
    )
