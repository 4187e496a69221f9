"""Guest: the raw messages of a Maildir folder (``new/`` then ``cur/``, by name).

stdin ``{"path", "folder", "user"}`` (``~/`` in that user's home); stdout a JSON
list of ``{"sub", "name", "mtime", "raw"}`` with ``raw`` in base64.
"""

import base64
import json
import os
import pwd
import sys


def messages(path, folder, user):
    home = pwd.getpwnam(user).pw_dir
    box = path.replace("~", home, 1) if path.startswith("~/") else path
    if folder:
        box = os.path.join(box, folder)
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(box, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                raw = f.read()
            out.append(
                {
                    "sub": sub,
                    "name": name,
                    "mtime": int(os.stat(p).st_mtime),
                    "raw": base64.b64encode(raw).decode(),
                }
            )
    return out


def main():
    a = json.load(sys.stdin)
    print(json.dumps(messages(a["path"], a["folder"], a["user"])))


if __name__ == "__main__":
    main()
