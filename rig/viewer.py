"""``report.html``: a static page to step through an episode, and an index for a suite.

The page is one file beside the episode's own files (screenshots are linked,
not copied), with the record embedded as JSON and a little script to step
through it: ←/→ or j/k move between steps, ``t`` toggles the UI tree.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

from rig.errors import RigError


def _load_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def load_episode(run_dir: Path) -> dict[str, Any]:
    """Everything the page shows, read from the episode folder (missing parts are None)."""
    if not (run_dir / "episode.json").is_file() and not (run_dir / "trajectory.jsonl").is_file():
        raise RigError(f"{run_dir}: not an episode folder (no episode.json or trajectory.jsonl)")
    steps = []
    traj = run_dir / "trajectory.jsonl"
    if traj.is_file():
        for line in traj.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                step = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            ui = step.get("files", {}).get("ui_tree")
            if ui and (run_dir / ui).is_file():
                step["ui_tree_text"] = (run_dir / ui).read_text(encoding="utf-8")[:200_000]
            steps.append(step)
    return {
        "episode": _load_json(run_dir / "episode.json") or {},
        "task": _load_json(run_dir / "task.json") or {},
        "score": _load_json(run_dir / "score.json"),
        "steps": steps,
    }


_ASSETS = resources.files("rig") / "assets"


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _verdict(score: dict[str, Any] | None, episode: dict[str, Any]) -> str:
    infra = (score or {}).get("infra_error") or episode.get("infra_error")
    if infra:
        return f'<span class="infra">INFRA ERROR</span> {html.escape(str(infra))}'
    if score is None:
        return f'<span class="infra">{html.escape(episode.get("status", "unfinished"))}</span>'
    cls, word = ("pass", "PASS") if score.get("passed") else ("fail", "FAIL")
    return f'<span class="{cls}">{word}</span> score {score.get("score", 0):.2f}'


def _agent_error(score: dict[str, Any] | None, episode: dict[str, Any]) -> str:
    """The agent's exception, if it raised: scored as its failure, but never hidden."""
    error = (score or {}).get("agent_error") or episode.get("agent_error")
    if not error:
        return ""
    return f'<p><span class="fail">AGENT ERROR</span> {html.escape(str(error))}</p>'


def _checks_table(score: dict[str, Any] | None) -> str:
    if not score:
        return ""
    rows = []
    for group in ("checks", "safety"):
        for c in score.get(group) or []:
            ok = c.get("passed")
            mark = '<span class="pass">✓</span>' if ok else '<span class="fail">✗</span>'
            rows.append(
                f"<tr><td>{group}</td><td>{mark}</td><td>{html.escape(str(c.get('name', '')))}"
                f"</td><td>{html.escape(str(c.get('detail', '')))}</td></tr>"
            )
    if not rows:
        return ""
    return (
        "<table><tr><th></th><th></th><th>check</th><th>detail</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_episode(run_dir: Path) -> str:
    rec = load_episode(run_dir)
    task, score, episode = rec["task"], rec["score"], rec["episode"]
    phases = episode.get("phases", {})
    phase_text = ", ".join(
        f"{k} {v.get('seconds', '?')}s" for k, v in phases.items() if isinstance(v, dict)
    )
    title = html.escape(task.get("title") or task.get("id") or run_dir.name)
    payload = json.dumps(rec, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} — clawrig episode</title><style>{_asset("report.css")}</style></head><body>
<header><h1>{title}</h1>
<div>{_verdict(score, episode)} · {len(rec["steps"])} steps · {html.escape(phase_text)}</div>
{_agent_error(score, episode)}
<p><b>Instruction:</b> {html.escape(task.get("instruction", ""))}</p>
{_checks_table(score)}
<p class="kbd">←/→ or j/k: previous/next step · t: UI tree</p></header>
<main><nav id="nav"></nav><section id="step"></section></main>
<script type="application/json" id="record">{payload}</script>
<script>{_asset("report.js")}</script></body></html>"""


def render_index(suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """A suite page linking every trial's report, with pass/fail and infra errors."""
    rows = []
    for t in trials:
        if t.get("infra_error"):
            verdict = (
                f'<span class="infra">infra: {html.escape(str(t["infra_error"]))[:120]}</span>'
            )
        elif t.get("error"):
            verdict = f'<span class="infra">not judged: {html.escape(str(t["error"])[:120])}</span>'
        elif t.get("passed"):
            verdict = '<span class="pass">pass</span>'
        else:
            verdict = '<span class="fail">fail</span>'
        link = html.escape(str(t.get("report", "")))
        rows.append(
            f"<tr><td>{html.escape(str(t.get('task_id')))}</td><td>{t.get('trial')}</td>"
            f"<td>{verdict}</td><td>{t.get('score', 0):.2f}</td>"
            f'<td><a href="{link}">report</a></td></tr>'
        )
    pass_at = ", ".join(f"pass@{k} {v:.3f}" for k, v in summary.get("pass_at_k", {}).items())
    pass_hat = ", ".join(f"pass^{k} {v:.3f}" for k, v in summary.get("pass_hat_k", {}).items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>clawrig suite — {html.escape(suite_dir.name)}</title>
<style>{_asset("report.css")}</style></head><body>
<header><h1>Suite {html.escape(suite_dir.name)}</h1>
<p>{summary.get("trials", 0)} trials · {summary.get("infra_errors", 0)} infra errors ·
{summary.get("errors", 0)} not judged (rig or task error) ·
pass rate {summary.get("pass_rate", 0):.3f} · {html.escape(pass_at)} · {html.escape(pass_hat)}</p>
</header><section><table><tr><th>task</th><th>trial</th><th>result</th><th>score</th>
<th></th></tr>{"".join(rows)}</table></section></body></html>"""


def write_report(run_dir: Path) -> Path:
    out = run_dir / "report.html"
    out.write_text(render_episode(run_dir), encoding="utf-8")
    return out
