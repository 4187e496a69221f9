"""A suite's ``index.html``: filters, pass@k/pass^k by mode and surface, every trial linked.

The page is a list of sections, each a function ``(suite_dir, trials, summary) -> html``
in :data:`SECTIONS`; a new view of a suite (history across nights …) is one more
function there. Filters (verdict, infra, task, mode, surface) act on every
element carrying ``data-verdict``/``data-task``/… attributes.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Section = Callable[[Path, list[dict[str, Any]], dict[str, Any]], str]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def trial_verdict(t: dict[str, Any]) -> str:
    if t.get("infra_error"):
        return "infra"
    if t.get("error"):
        return "error"
    return "pass" if t.get("passed") else "fail"


def _attrs(t: dict[str, Any]) -> str:
    surfaces = " ".join(t.get("surfaces") or []) or "unspecified"
    return (
        f'data-verdict="{trial_verdict(t)}" data-infra="{"yes" if t.get("infra_error") else "no"}" '
        f'data-task="{_e(t.get("task_id"))}" data-mode="{_e(t.get("mode", ""))}" '
        f'data-surfaces="{_e(surfaces)}"'
    )


def _options(name: str, values: list[str]) -> str:
    opts = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return (
        f'<label>{name} <select id="f-{name}"><option value="">all</option>{opts}</select></label>'
    )


def header(suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    pass_at = ", ".join(f"pass@{k} {v:.3f}" for k, v in summary.get("pass_at_k", {}).items())
    pass_hat = ", ".join(f"pass^{k} {v:.3f}" for k, v in summary.get("pass_hat_k", {}).items())
    return (
        f"<header><h1>Suite {_e(suite_dir.name)}</h1>"
        f"<p>{summary.get('trials', 0)} trials · {summary.get('infra_errors', 0)} infra errors · "
        f"{summary.get('errors', 0)} not judged (rig or task error) · "
        f"pass rate {summary.get('pass_rate', 0):.3f} · "
        f"{_e(pass_at)} · {_e(pass_hat)}</p>{_unjudged(summary)}</header>"
    )


def _unjudged(summary: dict[str, Any]) -> str:
    """Each trial the rig could not judge, named with its error: counted, never hidden."""
    items = "".join(
        f"<li>not judged: {_e(e.get('task_id'))} #{_e(e.get('trial'))} — {_e(e.get('error'))}</li>"
        for e in summary.get("error_trials") or []
    )
    return f'<ul class="unjudged" id="unjudged">{items}</ul>' if items else ""


def filters(suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    tasks = sorted({str(t.get("task_id")) for t in trials})
    modes = sorted({str(t.get("mode", "")) for t in trials})
    surfaces = sorted({s for t in trials for s in (t.get("surfaces") or ["unspecified"])})
    return (
        '<section class="filters" id="filters">'
        + _options("verdict", ["pass", "fail", "infra", "error"])
        + _options("infra", ["yes", "no"])
        + _options("task", tasks)
        + _options("mode", modes)
        + _options("surface", surfaces)
        + '<span id="shown" class="kbd"></span></section>'
    )


def breakdown(suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    blocks = []
    for dim in ("mode", "surface"):
        groups = (summary.get("by") or {}).get(dim) or {}
        if not groups:
            continue
        ks = sorted({k for g in groups.values() for k in (g.get("pass_at_k") or {})}, key=int)
        head = "".join(f"<th>pass@{k}</th>" for k in ks) + "".join(f"<th>pass^{k}</th>" for k in ks)
        rows = []
        for name, g in groups.items():
            cells = "".join(
                f"<td>{(g.get('pass_at_k') or {}).get(k, float('nan')):.3f}</td>" for k in ks
            ) + "".join(
                f"<td>{(g.get('pass_hat_k') or {}).get(k, float('nan')):.3f}</td>" for k in ks
            )
            rows.append(
                f"<tr><td>{_e(name)}</td><td>{g.get('tasks', 0)}</td><td>{g.get('trials', 0)}</td>"
                f"<td>{g.get('infra_errors', 0)}</td><td>{g.get('pass_rate', 0):.3f}</td>"
                f"{cells}</tr>"
            )
        blocks.append(
            f'<h3>by {dim}</h3><table class="by" id="by-{dim}"><tr><th>{dim}</th><th>tasks</th>'
            f"<th>trials</th><th>infra</th><th>pass rate</th>{head}</tr>{''.join(rows)}</table>"
        )
    return f'<section id="breakdown"><h2>pass@k / pass^k</h2>{"".join(blocks)}</section>'


def per_task(suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    by_task: dict[str, list[dict[str, Any]]] = {}
    for t in trials:
        by_task.setdefault(str(t.get("task_id")), []).append(t)
    rows = []
    for task_id, ts in sorted(by_task.items()):
        chips = []
        for t in sorted(ts, key=lambda t: t.get("trial", 0)):
            v = trial_verdict(t)
            why = t.get("infra_error") or t.get("error") or f"score {t.get('score', 0):.2f}"
            raised = t.get("agent_error")
            if raised:  # scored as the agent's attempt, but never hidden
                why = f"{why}; agent error: {raised}"
            label = "not judged" if v == "error" else v
            chips.append(
                f'<a class="chip trial {v}" {_attrs(t)} href="{_e(t.get("report", ""))}" '
                f'title="{_e(why)}">#{t.get("trial")} {label}{" (raised)" if raised else ""}</a>'
            )
        first = ts[0]
        valid = [t for t in ts if not t.get("infra_error") and not t.get("error")]
        passed = sum(1 for t in valid if t.get("passed"))
        rows.append(
            f'<tr class="task" data-task="{_e(task_id)}"><td>{_e(task_id)}</td>'
            f"<td>{_e(first.get('mode', ''))}</td>"
            f"<td>{_e(', '.join(first.get('surfaces') or []))}</td>"
            f"<td>{passed}/{len(valid)}</td><td>{''.join(chips)}</td></tr>"
        )
    return (
        '<section id="tasks"><h2>Tasks</h2><table><tr><th>task</th><th>mode</th><th>surfaces</th>'
        f"<th>passed</th><th>trials</th></tr>{''.join(rows)}</table></section>"
    )


def slowest_phases(
    suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any], top: int = 15
) -> str:
    found = []
    for t in trials:
        report = t.get("report")
        if not report:
            continue
        path = suite_dir / Path(report).parent / "episode.json"
        try:
            phases = json.loads(path.read_text(encoding="utf-8")).get("phases") or {}
        except (OSError, json.JSONDecodeError):
            continue
        for name, p in phases.items():
            if isinstance(p, dict) and isinstance(p.get("seconds"), int | float):
                found.append((float(p["seconds"]), name, t))
    found.sort(key=lambda x: -x[0])
    rows = "".join(
        f"<tr {_attrs(t)}><td>{s:.1f}s</td><td>{_e(name)}</td><td>{_e(t.get('task_id'))}</td>"
        f'<td><a href="{_e(t.get("report", ""))}">trial {t.get("trial")}</a></td></tr>'
        for s, name, t in found[:top]
    )
    return (
        '<section id="slowest"><h2>Slowest phases</h2><table><tr><th>time</th><th>phase</th>'
        f"<th>task</th><th></th></tr>{rows}</table></section>"
    )


def quarantine(suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """Nodes that failed the quick conformance probe and took no trial, with the check."""
    rows = "".join(
        f"<tr><td>{_e(q.get('node'))}</td><td>{_e(q.get('check'))}</td>"
        f"<td>{_e(q.get('evidence'))}</td></tr>"
        for q in summary.get("quarantined") or []
    )
    if not rows:
        return ""
    return (
        '<section id="quarantine"><h2>Quarantined nodes</h2><p>These failed the quick '
        "conformance probe and ran no trial of this suite.</p><table><tr><th>node</th>"
        f"<th>failing check</th><th>evidence</th></tr>{rows}</table></section>"
    )


SECTIONS: list[Section] = [header, quarantine, filters, breakdown, per_task, slowest_phases]

_SCRIPT = """
const sel = n => document.getElementById('f-' + n);
function apply(){
 const f = {verdict: sel('verdict').value, infra: sel('infra').value, task: sel('task').value,
  mode: sel('mode').value, surface: sel('surface').value};
 let shown = 0;
 document.querySelectorAll('[data-verdict]').forEach(el => {
  const ok = (!f.verdict || el.dataset.verdict === f.verdict)
   && (!f.infra || el.dataset.infra === f.infra) && (!f.task || el.dataset.task === f.task)
   && (!f.mode || el.dataset.mode === f.mode)
   && (!f.surface || el.dataset.surfaces.split(' ').includes(f.surface));
  el.classList.toggle('hide', !ok); el.hidden = !ok;
  if (ok && el.classList.contains('trial')) shown++;
 });
 document.querySelectorAll('tr.task').forEach(r => {
  r.hidden = !r.querySelector('.trial:not([hidden])');
 });
 document.getElementById('shown').textContent = shown + ' trials shown';
}
['verdict','infra','task','mode','surface'].forEach(n => sel(n).addEventListener('change', apply));
apply();
"""


def render_index(
    suite_dir: Path,
    trials: list[dict[str, Any]],
    summary: dict[str, Any],
    sections: list[Section] | None = None,
) -> str:
    from rig.viewer import asset

    body = "".join(section(suite_dir, trials, summary) for section in (sections or SECTIONS))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>clawrig suite — {_e(suite_dir.name)}</title><style>{asset('report.css')}</style>"
        f"</head><body>{body}<script>{_SCRIPT}</script></body></html>"
    )
