"""Reference solution: read HR's mails (the correction wins), then run the script at the
terminal and answer its three prompts."""


def solve(env):
    first = env.mail("laptop", "Speicherstadt")
    fix = env.mail("laptop", "swapped two digits")
    assert "Hamburg" in first and "E-20471 (not E-20417)" in fix, (first, fix)
    env.type_line("laptop", "bash ~/Downloads/acme-vpn-enroll.sh", until="Employee number")
    env.keys("laptop", "E-20471", "Enter", until="Office [")
    env.keys("laptop", "Hamburg", "Enter", until="[y/N]")
    env.keys("laptop", "y", "Enter", until="Welcome to ACME VPN")
