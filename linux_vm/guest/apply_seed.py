"""Guest: apply a Linux seed plan as root (files, folders, crontabs, SQLite databases).

stdin a tar stream: ``ops.json`` (the operations, in order) and one member per
payload; stdout ``{"ok": N}`` or ``{"error": "input", "message"}`` naming the
operation. Lookups and folders are remembered: a stream seeds thousands of
files into a few folders, and under TCG each /etc/passwd parse or stat costs
the guest real time.
"""

import base64
import grp
import io
import json
import os
import pwd
import sqlite3
import subprocess
import sys
import tarfile


class Refused(Exception):
    """An operation the machine refuses (no such user, a crontab with errors …)."""


class Applier:
    def __init__(self, tar):
        self.tar = tar
        self.users, self.groups, self.dirs = {}, {}, set()

    def blob(self, op):
        return self.tar.extractfile(op["blob"]).read()

    def user(self, name, i):
        if name not in self.users:
            try:
                self.users[name] = pwd.getpwnam(name)
            except KeyError:
                raise Refused(f"operation #{i}: no user {name!r} on this machine") from None
        return self.users[name]

    @staticmethod
    def expand(path, pw):
        return pw.pw_dir + path[1:] if path.startswith("~/") else path

    def mkdirs(self, d, pw):
        missing, top = [], d
        while d and d not in self.dirs and not os.path.isdir(d):
            missing.append(d)
            d = os.path.dirname(d)
        for m in reversed(missing):
            os.mkdir(m, 0o755)
            if m.startswith(pw.pw_dir + "/"):
                os.chown(m, pw.pw_uid, pw.pw_gid)
        self.dirs.add(top)

    def owned(self, path, pw, group, mode, i):
        gid = pw.pw_gid
        if group:
            if group not in self.groups:
                try:
                    self.groups[group] = grp.getgrnam(group).gr_gid
                except KeyError:
                    raise Refused(f"operation #{i}: no group {group!r}") from None
            gid = self.groups[group]
        os.chown(path, pw.pw_uid, gid)
        os.chmod(path, mode)

    def apply(self, i, op):
        kind = op["op"]
        if kind == "dir":
            pw = self.user(op["owner"], i)
            path = self.expand(op["path"], pw)
            self.mkdirs(os.path.dirname(path), pw)
            if not os.path.isdir(path):
                os.mkdir(path)
            self.owned(path, pw, None, op["mode"], i)
        elif kind == "file":
            pw = self.user(op["owner"], i)
            path = self.expand(op["path"], pw)
            self.mkdirs(os.path.dirname(path), pw)
            tmp = path + ".clawrig-seed"
            with open(tmp, "wb") as f:
                f.write(self.blob(op))
            self.owned(tmp, pw, op.get("group"), op["mode"], i)
            if op.get("mtime") is not None:
                os.utime(tmp, (op["mtime"], op["mtime"]))
            os.replace(tmp, path)
        elif kind == "crontab":
            self.user(op["user"], i)
            p = subprocess.run(
                ["crontab", "-u", op["user"], "-"], input=self.blob(op), capture_output=True
            )
            if p.returncode:
                why = p.stderr.decode(errors="replace").strip()
                raise Refused(f"operation #{i}: crontab refused: {why}")
        elif kind == "sqlite":
            pw = self.user(op["owner"], i)
            path = self.expand(op["path"], pw)
            self.mkdirs(os.path.dirname(path), pw)
            self.sqlite(path, json.loads(self.blob(op)), i)
            self.owned(path, pw, None, op["mode"], i)

    @staticmethod
    def sqlite(path, spec, i):
        def decode(v):
            return base64.b64decode(v["$b64"]) if isinstance(v, dict) else v

        def quote(name):
            return '"' + name.replace('"', '""') + '"'

        db = sqlite3.connect(path)
        try:
            with db:
                for stmt in spec["schema"]:
                    db.execute(stmt)
                for t in spec["tables"]:
                    cols = ", ".join(quote(c) for c in t["columns"])
                    marks = ", ".join("?" for _ in t["columns"])
                    db.executemany(
                        f"INSERT INTO {quote(t['table'])} ({cols}) VALUES ({marks})",
                        [[decode(v) for v in row] for row in t["rows"]],
                    )
        except sqlite3.Error as e:
            raise Refused(f"operation #{i}: sqlite {path}: {e}") from None
        finally:
            db.close()


def apply_stream(data):
    """Apply the tar stream ``data``; the JSON answer as a dict."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        ops = json.load(tar.extractfile("ops.json"))
        applier = Applier(tar)
        try:
            for i, op in enumerate(ops):
                applier.apply(i, op)
        except Refused as e:
            return {"error": "input", "message": str(e)}
    return {"ok": len(ops)}


def main():
    print(json.dumps(apply_stream(sys.stdin.buffer.read())))


if __name__ == "__main__":
    main()
