"""Reference solution on the laptop's shell: read Carla's mail, rewrite the number in
her card in the vdirsyncer mirror, sync it back to the server."""

import shlex


def solve(env):
    env.shell("laptop", "mbsync -a && vdirsyncer sync", timeout=120)
    inbox = "~/Maildir/cur/* ~/Maildir/new/*"  # the mbsync mirror's inbox
    found = env.shell("laptop", f"grep -l 'neue-nummer@kletterfreunde.example' {inbox}")
    paths = found.stdout.split()
    assert len(paths) == 1, paths
    mail = env.shell("laptop", f"mshow {paths[0]}").stdout
    assert "meine neue Nummer ist 0152 5871 3304" in mail, mail
    shown = env.shell("laptop", "khard show Carla")
    assert "4455 1200" in shown.stdout.replace("-", " "), shown.stdout
    found = env.shell("laptop", "grep -l 'Carla Jim' ~/.contacts/contacts/*")
    paths = found.stdout.split()
    assert len(paths) == 1, paths
    card = shlex.quote(paths[0])
    env.shell("laptop", f"grep -n '^TEL' {card}")
    # Only the number changes; the line ending (CRLF as the server sent it) stays.
    env.shell(
        "laptop",
        "python3 -c \"import re,sys; p=sys.argv[1]; t=open(p,newline='').read(); "
        "t2=re.sub(r'^(TEL[^:]*:)[^\\r\\n]*4455[^\\r\\n]*', r'\\g<1>+49 152 58713304', t, "
        "flags=re.M); assert t2 != t; open(p,'w',newline='').write(t2)\" "
        f"{card} && vdirsyncer sync",
        timeout=120,
    )
    after = env.shell("laptop", "khard show Carla")
    assert "58713304" in after.stdout.replace(" ", ""), after.stdout
