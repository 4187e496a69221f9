"""The laptop's mail, calendar and contacts clients, configured for the world's services.

The guest reaches every service of its world at one fixed address
(:data:`linux_vm.qemu.SERVICE_ADDR`, named ``mail.clawrig.world`` and
``dav.clawrig.world`` in the image's ``/etc/hosts``) on fixed ports
(:data:`GUEST_PORTS`); QEMU's ``guestfwd`` hands each connection to
``linux_vm/relay.py``, which looks the service's host port up in the VM's
``services.json`` when the connection opens. So a VM booted (or restored from
the snapshot) before the services started reaches them as soon as
:func:`connect` wrote that file, and a VM of a world without services finds
nothing there.

:func:`configure` writes the persona's configuration for the tools people use
(neomutt on IMAP, msmtp for SMTP, mbsync keeping ``~/Maildir`` in step with
the server, vdirsyncer mirroring CalDAV/CardDAV into ``~/.calendars`` and
``~/.contacts`` for khal and khard) and runs the first sync. A cron entry in
the image repeats both syncs every minute, as a person's laptop would.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MAIL_HOST = "mail.clawrig.world"
DAV_HOST = "dav.clawrig.world"
SERVICE_HOSTS = (MAIL_HOST, DAV_HOST)
# (service, endpoint) -> the guest port the VM dials on SERVICE_ADDR
GUEST_PORTS: dict[tuple[str, str], int] = {
    ("mail", "imap"): 143,
    ("mail", "smtp"): 587,
    ("calendar", "http"): 5232,
    ("contacts", "http"): 5233,
    ("bank", "http"): 8081,
    ("shop", "http"): 8082,
    ("parcels", "http"): 8083,
    ("chat", "http"): 8008,
}
# The web services and chat: one name each on SERVICE_ADDR, added to /etc/hosts at setup.
WEB_HOSTS = {name: f"{name}.clawrig.world" for name in ("bank", "shop", "parcels", "chat")}
MAP_FILE = "services.json"  # in the VM's workdir: guest port -> host port, read per connection
MAILDIR = "~/Maildir"  # where today's Maildir tasks read and seed mail
CALENDARS = "~/.calendars/calendar"
CONTACTS = "~/.contacts/contacts"

# Every minute, for the guest user: whatever of mbsync and vdirsyncer is configured.
# flock -n: a sync still running (slow under TCG) is not started twice.
SYNC_CRON = (
    "SHELL=/bin/bash\n"
    "* * * * * user test -f ~/.mbsyncrc && flock -n ~/.cache/mbsync.lock /usr/bin/mbsync -aq "
    ">/dev/null 2>&1\n"
    "* * * * * user test -f ~/.config/vdirsyncer/config && flock -n ~/.cache/vdirsyncer.lock "
    "/usr/bin/vdirsyncer -v ERROR sync >/dev/null 2>&1\n"
)

# The same jobs at once, waiting for a run in progress instead of skipping (a stepped world
# runs them when its clock jumps: linux_vm.device.SshLinuxDevice.run_periodic_jobs).
SYNC_NOW = (
    "mkdir -p ~/.cache; if test -f ~/.mbsyncrc; then flock -w 120 ~/.cache/mbsync.lock "
    "/usr/bin/mbsync -aq >/dev/null 2>&1; fi; if test -f ~/.config/vdirsyncer/config; then "
    "flock -w 120 ~/.cache/vdirsyncer.lock /usr/bin/vdirsyncer -v ERROR sync >/dev/null 2>&1; fi"
)


def connect(workdir: Path, host_ports: Mapping[tuple[str, str], int]) -> dict[int, int]:
    """Point the VM's fixed guest ports at the world's host ports (``services.json``).

    ``host_ports`` maps ``(service, endpoint)`` (e.g. ``("mail", "imap")``) to the
    loopback port the world's server listens on; returns guest port -> host port.
    """
    mapping = {}
    for key, port in host_ports.items():
        if key not in GUEST_PORTS:
            raise ValueError(f"no guest port for {key[0]} {key[1]}; known: {sorted(GUEST_PORTS)}")
        mapping[GUEST_PORTS[key]] = int(port)
    path = Path(workdir) / MAP_FILE
    tmp = path.with_name(MAP_FILE + ".tmp")
    tmp.write_text(json.dumps({str(k): v for k, v in mapping.items()}))
    os.replace(tmp, path)
    return mapping


def _quote_conf(value: str) -> str:
    """A double-quoted value for neomutt, mbsync and vdirsyncer (backslash and quote escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_files(access: Mapping[str, Mapping[str, Any]], timezone: str) -> dict[str, str]:
    """The persona's client configuration, by path under the home directory.

    ``access`` holds what each declared service gives a client: ``mail`` -> ``user``,
    ``password``, ``address`` and ``name``; ``calendar`` / ``contacts`` -> ``user``,
    ``password`` and ``path`` (the collection's path on the server).
    """
    files: dict[str, str] = {}
    mail = access.get("mail")
    if mail:
        imap, smtp = GUEST_PORTS[("mail", "imap")], GUEST_PORTS[("mail", "smtp")]
        user, password, address = mail["user"], mail["password"], mail["address"]
        name = str(mail.get("name") or "")
        sender = f"{name} <{address}>" if name else address
        files[".config/neomutt/neomuttrc"] = (
            "# The world's mail (written by clawrig at seed time)\n"
            # Plain IMAP on the world's own network: before anything that connects.
            "set ssl_starttls = no\n"
            "set ssl_force_tls = no\n"
            f"set imap_user = {_quote_conf(user)}\n"
            f"set imap_pass = {_quote_conf(password)}\n"
            f'set folder = "imap://{MAIL_HOST}:{imap}/"\n'
            'set spoolfile = "+INBOX"\n'
            'set record = "+Sent"\n'
            'set postponed = "+Drafts"\n'
            'set trash = "+Trash"\n'
            f"set from = {_quote_conf(address)}\n"
            f"set real_name = {_quote_conf(name)}\n"
            "set use_from = yes\n"
            'set sendmail = "/usr/bin/msmtp"\n'
            "set mail_check = 30\n"
            "set charset = utf-8\n"
            "set send_charset = utf-8\n"
            "mailboxes =INBOX =Sent =Archive =Drafts =Trash\n"
        )
        files[".msmtprc"] = (
            "# The world's SMTP submission (written by clawrig at seed time)\n"
            "defaults\nauth plain\ntls off\nlogfile ~/.msmtp.log\n\n"
            f"account world\nhost {MAIL_HOST}\nport {smtp}\n"
            f"from {address}\nuser {user}\npassword {password}\n\n"
            "account default : world\n"
        )
        files[".mbsyncrc"] = (
            "# ~/Maildir kept in step with the world's IMAP server (mbsync -a)\n"
            f"IMAPAccount world\nHost {MAIL_HOST}\nPort {imap}\n"
            f"User {_quote_conf(user)}\nPass {_quote_conf(password)}\n"
            "SSLType None\nAuthMechs LOGIN\n\n"
            "IMAPStore world-remote\nAccount world\n\n"
            # Maildir++: the inbox is the store's root, folders are .Sent, .Archive …
            f"MaildirStore world-local\nInbox {MAILDIR}\nSubFolders Maildir++\n\n"
            "Channel world\nFar :world-remote:\nNear :world-local:\n"
            "Patterns *\nCreate Both\nExpunge Both\nSyncState *\n"
        )
        sender_line = f"# sent as {sender}\n"
        files[".msmtprc"] = sender_line + files[".msmtprc"]
    pairs = []
    for service, local, kind, ext in (
        ("calendar", CALENDARS, "caldav", ".ics"),
        ("contacts", CONTACTS, "carddav", ".vcf"),
    ):
        dav = access.get(service)
        if not dav:
            continue
        port = GUEST_PORTS[(service, "http")]
        url = f"http://{DAV_HOST}:{port}{dav['path']}"
        pairs.append(
            f'[pair {service}]\na = "{service}_local"\nb = "{service}_remote"\n'
            'collections = null\nconflict_resolution = "b wins"\n\n'
            f'[storage {service}_local]\ntype = "filesystem"\npath = "{local}/"\n'
            f'fileext = "{ext}"\n\n'
            f'[storage {service}_remote]\ntype = "{kind}"\nurl = {_quote_conf(url)}\n'
            f"username = {_quote_conf(dav['user'])}\npassword = {_quote_conf(dav['password'])}\n"
        )
    if pairs:
        files[".config/vdirsyncer/config"] = (
            "# The world's CalDAV/CardDAV mirrored locally (vdirsyncer sync)\n"
            '[general]\nstatus_path = "~/.local/share/vdirsyncer/status/"\n\n' + "\n".join(pairs)
        )
    if "calendar" in access:
        files[".config/khal/config"] = (
            f"[calendars]\n[[calendar]]\npath = {CALENDARS}/\ncolor = dark green\n\n"
            f"[locale]\nlocal_timezone = {timezone}\ndefault_timezone = {timezone}\n"
            "timeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
            "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n\n"
            "[default]\ndefault_calendar = calendar\n"
        )
    if "contacts" in access:
        files[".config/khard/khard.conf"] = (
            f"[addressbooks]\n[[contacts]]\npath = {CONTACTS}/\n\n"
            "[general]\ndefault_action = list\neditor = vim\nmerge_editor = vimdiff\n\n"
            "[vcard]\npreferred_version = 3.0\n"
        )
    return files


# Files holding a password: readable by the user only (msmtp refuses anything looser).
_PRIVATE = frozenset({".msmtprc", ".mbsyncrc", ".config/neomutt/neomuttrc"})


def web_files(web: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``~/.netrc`` (how a person keeps API logins for curl: ``curl -n``) and a short
    ``~/docs/SERVICE.md`` per web service or chat, with the URL and a few commands."""
    files: dict[str, str] = {}
    netrc = []
    for name, entry in sorted(web.items()):
        host = WEB_HOSTS[name]
        base = f"http://{host}:{GUEST_PORTS[(name, 'http')]}"
        netrc.append(f"machine {host} login {entry['user']} password {entry['password']}")
        files[f"docs/{name}.md"] = _DOCS[name].format(base=base, user=entry["user"])
    if netrc:
        files[".netrc"] = "\n".join(netrc) + "\n"
    return files


_COMMON = (
    "Log in: HTTP Basic, user {user}; the password is in ~/.netrc, so `curl -n` sends it.\n"
    "Every route and body: `curl -sn {base}/openapi.json | jq '.paths | keys'`.\n"
    "Writes take an `Idempotency-Key: <any unique text>` header: repeating a request with\n"
    'the same key does not do it twice. Errors are JSON: {{"error": ...}}.\n'
)
_DOCS = {
    "bank": "# Bank\n\nAPI: {base}\n"
    + _COMMON
    + (
        "\n    curl -sn {base}/accounts | jq\n"
        "    curl -sn '{base}/accounts/ACCOUNT/transactions?q=plumber' | jq\n"
        "    curl -sn {base}/payees | jq\n"
        "    curl -sn -X POST {base}/transfers -H 'Content-Type: application/json' \\\n"
        '      -d \'{{"from_account": "ACCOUNT", "payee_id": "PAYEE", "amount": 12.50,'
        ' "reference": "Invoice 17"}}\'\n\n'
        'A transfer to a new payee ("payee": {{"name": ..., "iban": ...}}) answers\n'
        "status code_required and the bank texts a 6-digit code to your phone; then\n"
        "    curl -sn -X POST {base}/transfers/TRANSFER/confirm -H 'Content-Type: "
        'application/json\' -d \'{{"code": "123456"}}\'\n'
    ),
    "shop": "# Shop\n\nAPI: {base}\n"
    + _COMMON
    + (
        "\n    curl -sn '{base}/products?q=espresso' | jq\n"
        "    curl -sn {base}/products/PRODUCT/prices | jq     # price history\n"
        "    curl -sn -X PUT {base}/cart/items/PRODUCT -H 'Content-Type: application/json'"
        " -d '{{\"qty\": 1}}'\n"
        "    curl -sn -X POST {base}/orders -H 'Content-Type: application/json' -d '{{}}'\n"
        "    curl -sn {base}/orders | jq; curl -sn {base}/alerts | jq\n"
    ),
    "parcels": "# Parcels\n\nAPI: {base}\n"
    + _COMMON
    + (
        "\n    curl -sn {base}/shipments | jq\n"
        "    curl -sn {base}/shipments/TRACKING/slots | jq\n"
        "    curl -sn {base}/pickup-points | jq\n"
        "    curl -sn -X POST {base}/shipments/TRACKING/redirect -H 'Content-Type: "
        'application/json\' -d \'{{"to": "pickup_point", "pickup_point_id": "ID"}}\'\n'
    ),
    "chat": "# Chat (Matrix)\n\nHomeserver: {base} (server name clawrig.world),\n"
    "user @{user}:clawrig.world;\n"
    "the password is in ~/.netrc (machine chat.clawrig.world).\n\n"
    "## matrix-commander (logged in already)\n\n"
    "`matrix-commander` is set up with this account\n"
    "(~/.config/matrix-commander/credentials.json). Rooms are named by their id\n"
    "(`!abc:clawrig.world`); there is no default room, so always say which with `-r`.\n\n"
    "    matrix-commander --joined-rooms                  # the ids of my rooms\n"
    "    matrix-commander --get-room-info '!ROOM:clawrig.world'   # id, name, alias, topic\n"
    "    matrix-commander --tail 20 -r '!ROOM:clawrig.world'      # the last 20 messages\n"
    "    matrix-commander -m 'Hi all' -r '!ROOM:clawrig.world'    # send a message\n"
    "    matrix-commander --help | less                   # everything else\n\n"
    "`--output json` prints machine-readable answers (e.g. with jq).\n\n"
    "## Plain HTTP (curl and jq)\n\n"
    "    curl -s -X POST {base}/_matrix/client/v3/login -H 'Content-Type: application/json' \\\n"
    '      -d \'{{"type": "m.login.password", "identifier": {{"type": "m.id.user",'
    ' "user": "{user}"}}, "password": "PASSWORD"}}\' | jq -r .access_token\n'
    '    curl -s -H "Authorization: Bearer $TOKEN" {base}/_matrix/client/v3/joined_rooms | jq\n'
    '    curl -s -H "Authorization: Bearer $TOKEN" '
    "'{base}/_matrix/client/v3/rooms/ROOM/messages?dir=b&limit=20' | jq\n"
    '    curl -s -X PUT -H "Authorization: Bearer $TOKEN" '
    "{base}/_matrix/client/v3/rooms/ROOM/send/m.room.message/TXN \\\n"
    '      -d \'{{"msgtype": "m.text", "body": "Hi"}}\'\n',
}


def configure_web(device: Any, web: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Name the web services in ``/etc/hosts`` and write ``~/.netrc`` and ``~/docs``."""
    if not web:
        return {"files": []}
    names = " ".join(WEB_HOSTS[n] for n in sorted(web))
    from linux_vm.qemu import SERVICE_ADDR

    line = shlex.quote(f"{SERVICE_ADDR} {names}")
    r = device.privileged(f"grep -qxF {line} /etc/hosts || echo {line} >> /etc/hosts")
    if r.exit_code != 0:
        raise RuntimeError(f"naming the web services in /etc/hosts failed: {r.stderr.strip()}")
    files = web_files(web)
    r = device.exec("mkdir -p ~/docs")
    if r.exit_code != 0:
        raise RuntimeError(f"mkdir ~/docs failed: {r.stderr.strip()}")
    for path, text in files.items():
        device.write_file(path, text.encode("utf-8"), 0o600 if path == ".netrc" else 0o644)
    done: dict[str, Any] = {"files": sorted(files), "secrets": []}
    if "chat" in web:
        done["secrets"].append(login_chat_client(device, web["chat"]["user"]))
        done["files"] = sorted([*done["files"], CHAT_CREDENTIALS])
    return done


CHAT_CREDENTIALS = ".config/matrix-commander/credentials.json"
STORE = "~/.local/share/matrix-commander/store"  # matrix-commander refuses to run without it


def chat_login_command(user: str) -> str:
    """The guest's first login to the homeserver, as a person's first run of
    matrix-commander ends: a password login (through the guest port, the password read
    from ``~/.netrc``) whose answer becomes matrix-commander's credentials file (0600).
    No default room: a message without ``-r`` is refused, never sent somewhere."""
    host = WEB_HOSTS["chat"]
    base = f"http://{host}:{GUEST_PORTS[('chat', 'http')]}"
    body = (
        f"jq -n --arg u {shlex.quote(user)} --rawfile n ~/.netrc "
        '\'{type: "m.login.password", identifier: {type: "m.id.user", user: $u}, '
        'password: ($n | split("\\n") | map(split(" ")) '
        f'| map(select(.[1] == "{host}"))[0][5]), '
        'initial_device_display_name: "laptop (matrix-commander)"}\''
    )
    make = (
        f"jq --arg hs {base} '{{homeserver: $hs, user_id, device_id, access_token, room_id: \"\"}}'"
    )
    target = f"~/{CHAT_CREDENTIALS}"
    return (
        f"umask 077 && mkdir -p ~/.config/matrix-commander {STORE} && {body} "
        f"| curl -sf --max-time 60 -X POST {base}/_matrix/client/v3/login "
        f"-H 'Content-Type: application/json' -d @- | {make} > {target}.tmp "
        f"&& mv {target}.tmp {target} && jq -r .access_token {target}"
    )


def login_chat_client(device: Any, user: str) -> str:
    """Log the laptop's matrix-commander in; returns the access token (for the redactor)."""
    r = device.exec(chat_login_command(user), timeout=120)
    token = r.stdout.strip()
    if r.exit_code != 0 or not token or token == "null":
        raise RuntimeError(f"the laptop's chat login failed: {(r.stdout + r.stderr).strip()}")
    return token


def sync_command(access: Mapping[str, Any]) -> str:
    """The first sync after configuration: what a person runs once after setting up."""
    steps = []
    if "mail" in access:
        steps.append("mbsync -a")
    if "calendar" in access or "contacts" in access:
        steps.append("yes | vdirsyncer -v ERROR discover >/dev/null && vdirsyncer -v ERROR sync")
    return " && ".join(steps)


def configure(
    device: Any, access: Mapping[str, Mapping[str, Any]], timezone: str, timeout: float = 300.0
) -> dict[str, Any]:
    """Write the client configuration into ``device`` (a LinuxDevice) and sync once.

    Raises ``RuntimeError`` naming the command and its output when the first sync
    fails (the rig reports that as a service that does not work for the laptop).
    """
    files = config_files(access, timezone)
    if not files:
        return {"files": [], "synced": False}
    dirs = {str(Path(p).parent) for p in files if str(Path(p).parent) != "."}
    local = [d.removeprefix("~/") for d in (MAILDIR, CALENDARS, CONTACTS)]
    made = " ".join(shlex.quote(d) for d in sorted(dirs | set(local) | {".cache"}))
    r = device.exec(f"cd ~ && mkdir -p {made}", timeout=timeout)
    if r.exit_code != 0:
        raise RuntimeError(f"mkdir for the service clients failed: {r.stderr.strip()}")
    for path, text in files.items():
        device.write_file(path, text.encode("utf-8"), 0o600 if path in _PRIVATE else 0o644)
    command = sync_command(access)
    r = device.exec(f"cd ~ && {command}", timeout=timeout)
    if r.exit_code != 0:
        output = (r.stdout + r.stderr).strip()[-2000:]
        raise RuntimeError(f"first sync on the laptop failed ({command}): {output}")
    return {"files": sorted(files), "synced": True}
