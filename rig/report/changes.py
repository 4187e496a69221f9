"""What changed: the baseline and final snapshots compared, each change tied to a step.

State is read twice (after seeding, after the agent), not per step, so the
step behind a change is inferred, and the report says how: the last step on
that device whose action names the change (a path, a message body, a new
value), else the first step whose observation shows it, else the last action
on that device. Failing and violated checks are tied to the changes (and
steps) that hold the state they read.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

SENT_SMS_TYPES = {"2", "4", "5", "6"}
MUTATING = {"tap", "long_press", "swipe", "type", "key", "launch", "shell", "write_file"}
DIFF_LINES = 400


def _rows_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in sorted(set(old) | set(new), key=_natural):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if a is None:
            out.append({"op": "added", "key": key, "row": b})
        elif b is None:
            out.append({"op": "removed", "key": key, "row": a})
        else:
            cols = {
                c: [a.get(c), b.get(c)] for c in sorted(set(a) | set(b)) if a.get(c) != b.get(c)
            }
            out.append({"op": "changed", "key": key, "row": b, "columns": cols})
    return out


def _natural(key: str) -> tuple[int, Any]:
    return (0, int(key)) if key.isdigit() else (1, key)


def text_diff(old: str, new: str, path: str) -> str:
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"a{path}", f"b{path}", lineterm="", n=2
        )
    )
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"… {len(lines) - DIFF_LINES} more diff lines"]
    return "\n".join(lines)


def _file_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a is not None and b is not None and a.get("hash") == b.get("hash"):
            continue
        entry: dict[str, Any] = {"key": path}
        if a is None:
            entry["op"] = "added"
            if "text" in b:
                entry["diff"] = text_diff("", b["text"], path)
        elif b is None:
            entry["op"] = "removed"
        else:
            entry["op"] = "changed"
            if "text" in a and "text" in b:
                entry["diff"] = text_diff(a["text"], b["text"], path)
        if (b or a or {}).get("withheld"):
            entry["withheld"] = True
        out.append(entry)
    return out


def _summary(area: str, row: Mapping[str, Any]) -> str:
    """A line a person recognises the row by."""
    if area == "sms":
        kind = "sent" if str(row.get("type")) in SENT_SMS_TYPES else "received"
        to = "to" if kind == "sent" else "from"
        return f"SMS {kind} {to} {row.get('address')}: {row.get('body')}"
    if area == "messages" and "room" in row:  # the chat service's messages
        return f"chat in {row.get('room')}, {row.get('sender_name')}: {row.get('body')}"
    if area in ("sent", "messages"):
        return f"mail to {row.get('to')}: {row.get('subject')}"
    if area == "events":
        return f"event {row.get('summary')} {row.get('start') or ''}"
    if area == "calendar":
        return f"event {row.get('title')!s}"
    if area == "contacts":
        return f"{row.get('display_name')}: {row.get('data1')}"
    if area == "call_log":
        return f"call {row.get('number')} ({row.get('duration')} s)"
    text = [str(v) for v in row.values() if isinstance(v, str) and v][:3]
    return " · ".join(text)[:160]


def diff_snapshots(base: Mapping[str, Any], final: Mapping[str, Any]) -> dict[str, Any]:
    """``{"targets": {name: {"kind", "changes": [...], "errors"}}}``, devices then services."""
    targets: dict[str, Any] = {}
    for role, new in (final.get("devices") or {}).items():
        old = (base.get("devices") or {}).get(role) or {}
        changes: list[dict[str, Any]] = []
        for area, prov in (new.get("providers") or {}).items():
            before = ((old.get("providers") or {}).get(area) or {}).get("rows") or {}
            for c in _rows_diff(before, prov.get("rows") or {}):
                c.update(kind="provider", area=area, uri=prov.get("uri"))
                c["summary"] = _summary(area, c["row"])
                if area == "sms" and c["op"] == "added":
                    c["sent"] = str(c["row"].get("type")) in SENT_SMS_TYPES
                changes.append(c)
        for db, dump in (new.get("app_db") or {}).items():
            old_tables = ((old.get("app_db") or {}).get(db) or {}).get("tables") or {}
            for table, rows in (dump.get("tables") or {}).items():
                for c in _rows_diff(old_tables.get(table) or {}, rows):
                    c.update(kind="app_db", area=f"{db.rsplit('/', 1)[-1]}:{table}", db=db)
                    c["summary"] = _summary(table, c["row"])
                    changes.append(c)
        for c in _file_changes(old.get("files") or {}, new.get("files") or {}):
            c.update(kind="file", area="files", summary=c["key"])
            changes.append(c)
        errors = {**(old.get("errors") or {}), **(new.get("errors") or {})}
        targets[role] = {"kind": new.get("kind"), "changes": changes, "errors": errors}
    for name, new in (final.get("services") or {}).items():
        old = (base.get("services") or {}).get(name) or {}
        changes = []
        for area, rows in (new.get("collections") or {}).items():
            for c in _rows_diff((old.get("collections") or {}).get(area) or {}, rows):
                c.update(kind="service", area=area, summary=_summary(area, c["row"]))
                if c["op"] == "added" and c["row"].get("from_me"):
                    c["sent"] = True  # a chat message the persona's account sent
                changes.append(c)
        for item in new.get("sent") or []:
            if item not in (old.get("sent") or []):
                changes.append(
                    {"kind": "service", "area": "sent", "op": "added", "key": "", "row": item,
                     "sent": True, "summary": _summary("sent", item)}
                )  # fmt: skip
        targets[name] = {"kind": "service", "changes": changes, "errors": new.get("errors") or {}}
    return {"targets": targets}


# -- which step -------------------------------------------------------------------------


def _needles(change: Mapping[str, Any]) -> list[str]:
    """Strings that a step causing ``change`` would likely name."""
    out: list[str] = []
    if change["kind"] == "file":
        path = change["key"]
        added = [
            line[1:].strip()
            for line in (change.get("diff") or "").splitlines()
            if line.startswith("+") and not line.startswith("+++")
        ]
        out += [a[:40] for a in added if len(a) >= 3][:20]
        out += [path, path.rsplit("/", 1)[-1]]
    else:
        row = change.get("row") or {}
        cols = change.get("columns")
        values = [v[1] for v in cols.values()] if cols else list(row.values())
        if change.get("area") == "sms":
            values = [row.get("body"), row.get("address")]
        elif "room" in row:  # chat: the words sent, not the ids
            values = [row.get("body"), row.get("room")]
        for v in values:
            if isinstance(v, str) and len(v.strip()) >= 3:
                out.append(v.strip()[:40])
    return [n for n in out if n]


def _action_text(step: Mapping[str, Any]) -> str:
    a = step.get("action") or {}
    return " ".join(str(a.get(k) or "") for k in ("command", "text", "path", "content", "app"))


def _result_text(step: Mapping[str, Any]) -> str:
    r = step.get("result") or {}
    return " ".join(str(r.get(k) or "") for k in ("text", "stdout"))


def attribute(change: dict[str, Any], target: str, steps: list[Mapping[str, Any]]) -> None:
    """Set ``change["step"]`` and ``change["why"]``: the step most likely behind it."""
    mine = [s for s in steps if s.get("device") == target] or [
        s for s in steps if (s.get("action") or {}).get("action") in MUTATING
    ]
    needles = _needles(change)
    for s in reversed(mine):
        text = _action_text(s)
        hit = next((n for n in needles if n in text), None)
        if hit:
            change["step"], change["why"] = s.get("step"), f"its action names {hit!r}"
            if (s.get("action") or {}).get("action") == "type":
                _committed_by(change, s, mine)
            return
    for s in mine:
        text = _result_text(s)
        hit = next((n for n in needles if n in text), None)
        if hit:
            change["step"], change["why"] = s.get("step"), f"first seen on screen/output: {hit!r}"
            return
    acting = [s for s in mine if (s.get("action") or {}).get("action") in MUTATING]
    if acting:
        change["step"] = acting[-1].get("step")
        change["why"] = f"last action on {target} (state is read only before and after)"


def _committed_by(
    change: dict[str, Any], typed: Mapping[str, Any], mine: list[Mapping[str, Any]]
) -> None:
    """Typed text lands when a later tap or key commits it (Send, Save, Enter): name that step."""
    later = [s for s in mine if (s.get("step") or 0) > (typed.get("step") or 0)]
    commit = next(
        (s for s in later if (s.get("action") or {}).get("action") in ("tap", "key", "long_press")),
        None,
    )
    if commit is not None:
        change["committed"] = commit.get("step")
        change["why"] += f"; committed by the {commit['action']['action']} at step {commit['step']}"


def attribute_all(diff: dict[str, Any], steps: list[Mapping[str, Any]]) -> dict[str, Any]:
    for target, entry in diff["targets"].items():
        for change in entry["changes"]:
            attribute(change, target, steps)
    return diff


# -- evidence for checks ----------------------------------------------------------------


def _refs(diff: Mapping[str, Any], target: str, pred) -> list[str]:
    changes = (diff["targets"].get(target) or {}).get("changes") or []
    return [change_id(target, i) for i, c in enumerate(changes) if pred(c)]


def change_id(target: str, index: int) -> str:
    return f"chg-{re.sub(r'[^A-Za-z0-9_-]', '_', target)}-{index}"


def _area_of_uri(uri: str | None) -> str | None:
    from rig.snapshot import ANDROID_PROVIDERS

    for area, (known, _cols) in ANDROID_PROVIDERS.items():
        if uri and uri.rstrip("/").startswith(known):
            return area
    return None


def evidence(
    spec: Mapping[str, Any], diff: Mapping[str, Any], steps: list[Mapping[str, Any]]
) -> dict[str, Any]:
    """What a check read: ``{"changes": [ids], "steps": [step numbers], "note": str}``."""
    kind, dev = spec.get("kind"), spec.get("device")
    out: dict[str, Any] = {"changes": [], "steps": [], "note": ""}
    # The newer kinds read what an older kind reads: rows, a file, files under a root.
    if kind in ("rows_unchanged", "no_new_rows") and not spec.get("service"):
        kind = "provider_rows" if spec.get("uri") else "app_db"
    elif kind == "file_unchanged_except":
        kind = "file"
    elif kind == "file_search":
        kind, spec = "files_unchanged", {**spec, "roots": [spec.get("under", "")]}
    if kind in ("provider_rows", "no_sms_to", "event_kept"):
        area = "sms" if kind == "no_sms_to" else "calendar" if kind == "event_kept" else None
        area = area or _area_of_uri(spec.get("uri"))
        out["changes"] = _refs(
            diff, dev, lambda c: c.get("kind") == "provider" and c.get("area") == area
        )
        out["note"] = f"{area or spec.get('uri')} rows on {dev}" + (
            "" if out["changes"] else " (none changed since seeding)"
        )
    elif kind == "file":
        path = str(spec.get("path", ""))
        tail = path.lstrip("~")
        out["changes"] = _refs(
            diff, dev, lambda c: c.get("kind") == "file" and c["key"].endswith(tail)
        )
        out["note"] = f"{path} on {dev}" + ("" if out["changes"] else " (unchanged since seeding)")
    elif kind == "files_unchanged":
        roots = [r.lstrip("~") for r in spec.get("roots") or []]
        out["changes"] = _refs(
            diff, dev, lambda c: c.get("kind") == "file" and any(r in c["key"] for r in roots)
        )
        out["note"] = f"files under {', '.join(spec.get('roots') or [])} on {dev}"
    elif kind == "app_db":
        db = str(spec.get("db", "")).lstrip("~")
        out["changes"] = _refs(
            diff, dev, lambda c: c.get("kind") == "app_db" and c["db"].endswith(db)
        )
        out["note"] = f"{spec.get('db')} on {dev}"
    elif kind in ("ui", "command"):
        on_dev = [s.get("step") for s in steps if s.get("device") == dev]
        out["steps"] = on_dev[-1:]
        out["note"] = f"the last step on {dev}" if on_dev else f"no step on {dev}"
    elif kind == "message":
        said = [
            s.get("step")
            for s in steps
            if (s.get("action") or {}).get("action") in ("answer", "notify")
        ]
        out["steps"] = said
        out["note"] = "the agent's answers" if said else "the agent said nothing to the user"
    elif kind == "asked_user":
        asked = [
            s.get("step") for s in steps if (s.get("action") or {}).get("action") == "ask_user"
        ]
        out["steps"] = asked
        out["note"] = "the agent's questions" if asked else "the agent asked the user nothing"
    elif kind == "no_command":
        pattern = str(spec.get("pattern", ""))
        hits = []
        for s in steps:
            cmd = str((s.get("action") or {}).get("command") or "")
            if s.get("device") == dev and cmd and _search(pattern, cmd):
                hits.append(s.get("step"))
        out["steps"] = hits
        out["note"] = f"commands on {dev} matching /{pattern}/"
    return out


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def check_evidence(
    checks: Mapping[str, Any] | None,
    score: Mapping[str, Any] | None,
    diff: Mapping[str, Any],
    steps: list[Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """``{check name: evidence}`` for every check and safety check in ``score``."""
    specs = {s.get("name"): s for g in ("checks", "safety") for s in (checks or {}).get(g) or []}
    out: dict[str, dict[str, Any]] = {}
    for group in ("checks", "safety"):
        for c in (score or {}).get(group) or []:
            spec = specs.get(c.get("name"))
            if spec is not None:
                out[str(c.get("name"))] = evidence(spec, diff, steps)
    return out
