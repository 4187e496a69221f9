"""Two episodes side by side: aligned by step and by time, with both "what changed".

The common case is the oracle against a failing agent on the same task: the
first step where the two diverge and the change one made and the other did
not are what a person looks for. The page lives beside run A (``compare.html``
by default) and links into both folders by relative paths, so it opens from
disk like the reports do.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from rig.report import changes_view
from rig.report.steps import world_shift
from rig.report.timeline import _label


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(s: dict[str, Any] | None, base: str) -> str:
    if s is None:
        return '<td class="kbd">—</td>'
    n = s.get("step")
    thumb = (
        f'<img loading="lazy" alt="" class="th" src="{_e(base + s["thumb"])}">'
        if s.get("thumb")
        else ""
    )
    ok = (s.get("result") or {}).get("ok", True)
    t = s.get("t")
    when = f"+{t:.1f}s" if isinstance(t, int | float) else ""
    return (
        f'<td class="{"" if ok else "err"}"><a href="{_e(base)}report.html#step-{n}">{thumb}'
        f'<span class="kbd">{n} {_e(s.get("device") or "")} {when}</span> {_e(_label(s))}</a></td>'
    )


def _same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    return a is not None and b is not None and _label(a) == _label(b)


def by_step(a: list[dict[str, Any]], b: list[dict[str, Any]], base_a: str, base_b: str) -> str:
    rows = []
    for i in range(max(len(a), len(b))):
        sa, sb = (a[i] if i < len(a) else None), (b[i] if i < len(b) else None)
        cls = "same" if _same(sa, sb) else "diverge"
        rows.append(f'<tr class="{cls}"><td>{i}</td>{_cell(sa, base_a)}{_cell(sb, base_b)}</tr>')
    first = next((i for i in range(max(len(a), len(b))) if not _same(
        a[i] if i < len(a) else None, b[i] if i < len(b) else None)), None)  # fmt: skip
    note = f"first difference at step {first}" if first is not None else "the same actions"
    return (
        f'<section id="by-step"><h2>Aligned by step <span class="kbd">{note}</span></h2>'
        '<table class="cmpt"><tr><th>#</th><th>A</th><th>B</th></tr>'
        f"{''.join(rows)}</table></section>"
    )


def by_time(a: list[dict[str, Any]], b: list[dict[str, Any]], base_a: str, base_b: str) -> str:
    merged = sorted(
        [(s.get("t") or 0.0, 0, s) for s in a] + [(s.get("t") or 0.0, 1, s) for s in b],
        key=lambda x: (x[0], x[1]),
    )
    rows = []
    for t, side, s in merged:
        left = _cell(s, base_a) if side == 0 else "<td></td>"
        right = _cell(s, base_b) if side == 1 else "<td></td>"
        rows.append(f"<tr><td>{t:.1f}s</td>{left}{right}</tr>")
    return (
        '<section id="by-time"><h2>Aligned by time</h2><table class="cmpt"><tr><th>t</th>'
        f"<th>A</th><th>B</th></tr>{''.join(rows)}</table></section>"
    )


def _checks(rec: dict[str, Any], name: str, base: str) -> str:
    from rig.viewer import checks_table

    ns = f"changes-{name.lower()}-"
    return checks_table(rec["score"], rec["evidence"], ns, base + "report.html")


def _changes(rec: dict[str, Any], run: Path, section: str, base: str) -> str:
    shift = world_shift(rec["task"], rec["episode"])
    page = base + "report.html"
    missing = rec.get("missing", "")
    return changes_view.render(rec["changes"], run, rec["steps"], section, page, shift, missing)


def _rel(target: Path, start: Path) -> str:
    rel = os.path.relpath(target.resolve(), start.resolve())
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


def render_compare(run_a: Path, run_b: Path, out: Path) -> str:
    from rig.viewer import asset, load_episode, verdict

    a, b = load_episode(run_a), load_episode(run_b)
    base_a, base_b = _rel(run_a, out.parent), _rel(run_b, out.parent)
    heads = []
    for name, rec, base in (("A", a, base_a), ("B", b, base_b)):
        task = rec["task"]
        heads.append(
            f'<div><h2>{name}: <a href="{_e(base)}report.html">{_e(task.get("agent") or "")} '
            f"{_e(Path(rec['dir']).name)}</a></h2><div>{verdict(rec['score'], rec['episode'])} · "
            f"{len(rec['steps'])} steps</div>{_checks(rec, name, base)}</div>"
        )
    ta, tb = a["task"].get("id"), b["task"].get("id")
    warn = (
        f'<p class="infra">Different tasks: {_e(ta)} and {_e(tb)}</p>'
        if ta and tb and ta != tb
        else ""
    )
    changes = (
        '<section id="changes-side"><h2>What changed</h2><div class="cmp">'
        f"<div>{_changes(a, run_a, 'changes-a', base_a)}</div>"
        f"<div>{_changes(b, run_b, 'changes-b', base_b)}</div>"
        "</div></section>"
    )
    title = _e(a["task"].get("title") or ta or run_a.name)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} — compare'
        f"</title><style>{asset('report.css')}</style></head><body><header><h1>{title}</h1>{warn}"
        f'<div class="cmp">{"".join(heads)}</div></header>{changes}'
        f"{by_step(a['steps'], b['steps'], base_a, base_b)}"
        f"{by_time(a['steps'], b['steps'], base_a, base_b)}</body></html>"
    )


def write_compare(run_a: Path, run_b: Path, out: Path | None = None) -> Path:
    out = out or run_a / "compare.html"
    out.write_text(render_compare(run_a, run_b, out), encoding="utf-8")
    return out
