"""Guest: the SHA-256 of every regular file under some folders, read as the user.

stdin ``{"roots": [...], "user": "user"}``; stdout ``{root: {path: sha256}}``. A root
``~`` or ``~/…`` is in the user's home, a relative one is relative to it. Paths are
named as ``find ROOT -type f`` names them; symbolic links are not followed (neither a
root that is one); a root that is not a folder gives ``{}``; files the user cannot read
are left out, as ``sha256sum`` run by the user leaves them out. The walk runs in a child
that has become the user, so the answer is what the user sees, not what root sees.
"""

import hashlib
import json
import os
import pwd
import stat
import sys


def expand(root, home):
    if root == "~":
        return home
    if root.startswith("~/"):
        return home + "/" + root[2:]
    return root


def name(path):
    return os.fsencode(path).decode("utf-8", "replace")


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return h.hexdigest()
            h.update(chunk)


def join(top, entry):
    return top + entry if top.endswith("/") else top + "/" + entry


def walk(real, shown, out):
    """Every regular file under ``real``, named under ``shown`` (the root as given)."""
    try:
        entries = list(os.scandir(real))
    except OSError:
        return
    for entry in entries:
        path, named = join(real, entry.name), join(shown, entry.name)
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode):
            walk(path, named, out)
        elif stat.S_ISREG(mode):
            try:
                out[name(named)] = digest(path)
            except OSError:
                continue


def hashes(root, home):
    top = expand(root, home)
    real = top if os.path.isabs(top) else os.path.join(home, top)
    try:
        st = os.lstat(real)
    except OSError:
        return {}
    if not stat.S_ISDIR(st.st_mode):
        # `find` on a symbolic link to a folder names nothing: it is not followed.
        return {}
    out = {}
    walk(real, top, out)
    return out


def as_user(user, work):
    """``work()`` in a child that has become ``user``; its JSON answer."""
    entry = pwd.getpwnam(user)
    if os.getuid() == entry.pw_uid:
        cwd = os.getcwd()
        os.chdir(entry.pw_dir)
        try:
            return work(entry.pw_dir)
        finally:
            os.chdir(cwd)
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(rd)
            os.initgroups(user, entry.pw_gid)
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.chdir(entry.pw_dir)
            blob = json.dumps(work(entry.pw_dir)).encode()
            with os.fdopen(wr, "wb") as f:
                f.write(blob)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(wr)
    with os.fdopen(rd, "rb") as f:
        blob = f.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not blob:
        raise OSError(f"hashing as {user} failed (status {status})")
    return json.loads(blob)


def main():
    a = json.load(sys.stdin)
    roots = list(a["roots"])
    try:
        answer = as_user(a.get("user") or "user", lambda home: {r: hashes(r, home) for r in roots})
    except (OSError, KeyError) as e:
        answer = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
