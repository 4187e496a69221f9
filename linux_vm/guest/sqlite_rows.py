"""Guest: the rows of a read-only SQLite query; BLOBs as ``{"$b64": …}``.

stdin ``{"path", "sql", "params"}``; stdout a JSON list of rows, or ``{"error"}``.
"""

import base64
import json
import sqlite3
import sys
import urllib.parse


def encode(value):
    return {"$b64": base64.b64encode(value).decode()} if isinstance(value, bytes) else value


def rows(path, sql, params):
    db = sqlite3.connect("file:" + urllib.parse.quote(path) + "?mode=ro", uri=True)
    try:
        return [[encode(v) for v in row] for row in db.execute(sql, params).fetchall()]
    finally:
        db.close()


def main():
    a = json.load(sys.stdin)
    try:
        answer = rows(a["path"], a["sql"], a["params"])
    except sqlite3.Error as e:
        answer = {"error": str(e)}
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
