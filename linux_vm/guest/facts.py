"""Guest: read seeded state back (files, crontabs, SQLite tables) for verification.

stdin a JSON list of checks ``{"kind": "file"|"crontab"|"sqlite", …}``; stdout one
JSON fact per check, in order (``{"missing": true}`` for what is not there).
"""

import base64
import grp
import hashlib
import json
import os
import pwd
import sqlite3
import subprocess
import sys
import urllib.parse


def who(uid, gid):
    try:
        u = pwd.getpwuid(uid).pw_name
    except KeyError:
        u = str(uid)
    try:
        g = grp.getgrgid(gid).gr_name
    except KeyError:
        g = str(gid)
    return u, g


def expand(path, owner):
    if not path.startswith("~/"):
        return path
    try:
        return pwd.getpwnam(owner).pw_dir + path[1:]
    except KeyError:
        return path


def encode(value):
    return {"$b64": base64.b64encode(value).decode()} if isinstance(value, bytes) else value


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def file_fact(c):
    p = expand(c["path"], c["owner"])
    try:
        st = os.stat(p)
        with open(p, "rb") as f:
            data = f.read()
    except OSError:
        return {"kind": "file", "path": c["path"], "missing": True}
    u, g = who(st.st_uid, st.st_gid)
    return {
        "kind": "file",
        "path": c["path"],
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "owner": u,
        "group": g,
        "mode": st.st_mode & 0o7777,
        "mtime": int(st.st_mtime),
    }


def crontab_fact(c):
    p = subprocess.run(["crontab", "-l", "-u", c["user"]], capture_output=True)
    if p.returncode:
        return {"kind": "crontab", "user": c["user"], "missing": True}
    return {"kind": "crontab", "user": c["user"], "sha256": hashlib.sha256(p.stdout).hexdigest()}


def sqlite_fact(c):
    p = expand(c["path"], c["owner"])
    if not os.path.isfile(p):
        return {"kind": "sqlite", "path": c["path"], "missing": True}
    st = os.stat(p)
    u, g = who(st.st_uid, st.st_gid)
    db = sqlite3.connect("file:" + urllib.parse.quote(p) + "?mode=ro", uri=True)
    tables = {}
    try:
        for t, cols in c["columns"].items():
            sql = f"SELECT {', '.join(quote(x) for x in cols)} FROM {quote(t)} ORDER BY rowid"
            try:
                rows = db.execute(sql).fetchall()
            except sqlite3.Error:
                tables[t] = None
                continue
            blob = json.dumps([[encode(v) for v in r] for r in rows], sort_keys=True).encode()
            tables[t] = hashlib.sha256(blob).hexdigest()
    finally:
        db.close()
    return {
        "kind": "sqlite",
        "path": c["path"],
        "owner": u,
        "group": g,
        "mode": st.st_mode & 0o7777,
        "tables": tables,
    }


FACTS = {"file": file_fact, "crontab": crontab_fact, "sqlite": sqlite_fact}


def facts(checks):
    return [FACTS[c["kind"]](c) for c in checks]


def main():
    print(json.dumps(facts(json.load(sys.stdin))))


if __name__ == "__main__":
    main()
