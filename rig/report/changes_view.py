"""The ``changes`` section's HTML: per device and service, sent messages first."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from rig.report.changes import change_id
from rig.report.steps import agent_window, seconds

SHOWN_PER_AREA = 200
OPS = {"added": "+", "changed": "~", "removed": "−"}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _short(value: Any, cap: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= cap else text[:cap] + "…"


def step_link(step: Any, why: str = "", base: str = "") -> str:
    """A link that opens the step: in this page's step view, or in the report at ``base``."""
    if step is None:
        return '<span class="kbd">no step</span>'
    title = f' title="{_e(why)}"' if why else ""
    n = int(step)
    if base:
        return f'<a class="sl" href="{_e(base)}#step-{n}"{title}>step {n}</a>'
    return f'<a class="sl" href="#step-{n}" data-step="{n}"{title}>step {n}</a>'


def _change_row(target: str, index: int, c: dict[str, Any], base: str = "", ns: str = "") -> str:
    op = c.get("op", "")
    body = f'<span class="op {op}">{OPS.get(op, op)}</span> {_e(_short(c.get("summary", ""), 200))}'
    if c.get("columns"):
        cols = "; ".join(
            f"<b>{_e(k)}</b>: {_e(_short(a, 60))} → {_e(_short(b, 60))}"
            for k, (a, b) in c["columns"].items()
        )
        body += f'<div class="cols">{cols}</div>'
    if c.get("withheld"):
        body += '<div class="kbd">contents withheld (looks like a credential)</div>'
    if c.get("diff"):
        body += (
            '<details open><summary>diff</summary><pre class="diff">'
            f"{_diff_html(c['diff'])}</pre></details>"
        )
    elif c.get("kind") in ("provider", "app_db", "service") and op != "changed":
        body += f'<div class="kbd">{_e(_short(c.get("row"), 300))}</div>'
    why = c.get("why", "")
    return (
        f'<tr id="{ns}{change_id(target, index)}" class="chg {op}"><td>{body}</td>'
        f"<td>{step_link(c.get('step'), why, base)}{_committed(c, base)}"
        f'<div class="kbd">{_e(why)}</div></td></tr>'
    )


def _diff_html(diff: str) -> str:
    out = []
    for line in diff.splitlines():
        cls = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        out.append(f'<span class="{cls}">{_e(line)}</span>' if cls else _e(line))
    return "\n".join(out)


def audit_entries(run_dir: Path, name: str) -> list[dict[str, Any]]:
    path = run_dir / "services" / name / "audit.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def render(
    diff: dict[str, Any] | None,
    run_dir: Path | None = None,
    steps: list[dict[str, Any]] | None = None,
    section_id: str = "changes",
    base: str = "",
    shift: float = 0.0,
    missing: str = "No state snapshots in this record.",
) -> str:
    """The section; ``base`` (a report's path) makes step links open that report instead, and
    ids are prefixed by ``section_id`` when it is not ``changes`` (two sections on one page)."""
    ns = "" if section_id == "changes" else section_id + "-"
    if diff is None:
        return (
            f'<section id="{section_id}"><h2>What changed</h2><p class="kbd">'
            f"{_e(missing)}</p></section>"
        )
    parts = []
    sent = [
        (t, i, c)
        for t, e in diff["targets"].items()
        for i, c in enumerate(e["changes"])
        if c.get("sent")
    ]
    if sent:
        items = "".join(
            f'<li><a href="#{ns}{change_id(t, i)}">{_e(t)}</a> {_e(_short(c.get("summary"), 200))} '
            f"{step_link(c.get('step'), c.get('why', ''), base)}</li>"
            for t, i, c in sent
        )
        parts.append(f'<div class="sent"><h3>Sent</h3><ul>{items}</ul></div>')
    services = (
        sorted(p.name for p in (run_dir / "services").iterdir() if p.is_dir())
        if run_dir and (run_dir / "services").is_dir()
        else []
    )
    names = list(diff["targets"]) + [s for s in services if s not in diff["targets"]]
    for target in names:
        entry = diff["targets"].get(target) or {"kind": "service", "changes": [], "errors": {}}
        changes = entry["changes"]
        blocks = []
        for err_part, err in (entry.get("errors") or {}).items():
            blocks.append(f'<p class="infra">{_e(err_part)} could not be read: {_e(err)}</p>')
        by_area: dict[str, list[int]] = {}
        for i, c in enumerate(changes):
            by_area.setdefault(f"{c.get('kind')}:{c.get('area')}", []).append(i)
        for area, idxs in by_area.items():
            counts = {op: sum(1 for i in idxs if changes[i].get("op") == op) for op in OPS}
            head = ", ".join(f"{n} {op}" for op, n in counts.items() if n)
            rows = "".join(
                _change_row(target, i, changes[i], base, ns) for i in idxs[:SHOWN_PER_AREA]
            )
            more = len(idxs) - SHOWN_PER_AREA
            if more > 0:
                rows += f'<tr><td colspan="2" class="kbd">… {more} more</td></tr>'
            blocks.append(
                f'<h4>{_e(area.split(":", 1)[1])} <span class="kbd">{_e(head)}</span></h4>'
                f'<table class="chgs">{rows}</table>'
            )
        audit = audit_entries(run_dir, target) if run_dir else []
        audit, before = _during_agent(audit, steps or [], shift)
        if audit or before:
            rows = "".join(
                f"<tr><td>{_e(_short({k: v for k, v in a.items() if k != '_step'}, 240))}</td>"
                f"<td>{step_link(a.get('_step'), '', base)}</td></tr>"
                for a in _attribute_audit(audit, steps or [], shift)[:SHOWN_PER_AREA]
            )
            blocks.append(
                f'<details class="audit"><summary>audit <span class="kbd">{len(audit)} entries '
                f"while the agent acted ({before} more from seeding and reading state)"
                f'</span></summary><table class="chgs">{rows}</table></details>'
            )
        if not blocks:
            blocks.append('<p class="kbd">nothing changed</p>')
        parts.append(
            f'<div class="target" data-target="{_e(target)}"><h3>{_e(target)} '
            f'<span class="kbd">{_e(entry.get("kind") or "")} · {len(changes)} changes</span></h3>'
            f"{''.join(blocks)}</div>"
        )
    return f'<section id="{section_id}"><h2>What changed</h2>{"".join(parts)}</section>'


def _attribute_audit(
    entries: list[dict[str, Any]], steps: list[dict[str, Any]], shift: float = 0.0
) -> list[dict[str, Any]]:
    """Each audit entry with the last step that started before it (``_step``); audit times
    are world times, ``shift`` turns them into host times."""
    starts = [(seconds(s.get("time")), s.get("step")) for s in steps]
    out = []
    for e in entries:
        at = seconds(str(e.get("t") or ""))
        at = None if at is None else at + shift
        before = [n for t, n in starts if t is not None and at is not None and t <= at]
        out.append({**e, "_step": before[-1] if before else None})
    return out


def _during_agent(
    entries: list[dict[str, Any]], steps: list[dict[str, Any]], shift: float
) -> tuple[list[dict[str, Any]], int]:
    """The audit entries while the agent acted, and how many came outside that window
    (seeding and its read-back before, the rig reading the final state after)."""
    window = agent_window(steps)
    if window is None:
        return entries, 0
    kept = []
    for e in entries:
        at = seconds(str(e.get("t") or ""))
        if at is None or window[0] - 0.5 <= at + shift <= window[1] + 0.5:
            kept.append(e)
    return kept, len(entries) - len(kept)


def _committed(change: dict[str, Any], base: str) -> str:
    if change.get("committed") is None:
        return ""
    return " → " + step_link(change["committed"], "the tap or key that committed it", base)
