"""``report.html``: a static page to find out why an episode went the way it did.

The page is one file beside the episode's own files (screenshots are linked,
not copied; thumbnails are small JPEGs made once), so the folder opens from
disk without a server. Top to bottom: the verdict and the checks (each linked
to the evidence it read), the cross-device timeline (``#timeline``), what
changed on every device and service (``#changes``), and the step view
(←/→ or j/k, Home/End, ``t`` for the UI tree, ``/`` to search steps).

The parts live in :mod:`rig.report`; this module assembles them.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

from rig.errors import RigError
from rig.report import changes as ch
from rig.report import changes_view, timeline
from rig.report.steps import enrich, world_shift


def _load_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def load_steps(run_dir: Path) -> list[dict[str, Any]]:
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
            if isinstance(step, dict):
                step["action"] = _action_mapping(step.get("action"))
                steps.append(step)
    return steps


def _action_mapping(action: Any) -> dict[str, Any]:
    """A step's action as a mapping, whatever the agent sent.

    An action that failed validation is recorded as the agent sent it (a string, a list);
    every part of the page reads actions as mappings, so such a step becomes
    ``{"action": "invalid", "raw": ...}`` here, once, instead of crashing the report.
    """
    if isinstance(action, dict):
        return action
    if action is None:
        return {}
    if isinstance(action, str):
        try:
            parsed = json.loads(action)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return {**parsed, "raw": action}
    return {"action": "invalid", "raw": action if isinstance(action, str) else json.dumps(action)}


def load_episode(run_dir: Path) -> dict[str, Any]:
    """Everything the page shows, read from the episode folder (missing parts are None).

    ``changes`` is the baseline/final difference with a step for each change, and
    ``evidence`` what each check read (both None for records without snapshots).
    """
    if not (run_dir / "episode.json").is_file() and not (run_dir / "trajectory.jsonl").is_file():
        raise RigError(f"{run_dir}: not an episode folder (no episode.json or trajectory.jsonl)")
    steps = load_steps(run_dir)
    t0 = enrich(run_dir, steps)
    rec: dict[str, Any] = {
        "dir": str(run_dir),
        "t0": t0,
        "episode": _load_json(run_dir / "episode.json") or {},
        "task": _load_json(run_dir / "task.json") or {},
        "score": _load_json(run_dir / "score.json"),
        "steps": steps,
        "changes": None,
        "evidence": {},
        "casts": _casts(run_dir, steps),
    }
    base, final = (_load_json(run_dir / "state" / f"{n}.json") for n in ("baseline", "final"))
    if base is None:
        rec["missing"] = (
            "No baseline state in this record: the episode ended before seeding was verified, "
            "or an older rig recorded it."
        )
    elif final is None:
        rec["missing"] = (
            "Only the baseline state was read: the episode ended before the final state "
            "(see the verdict above)."
        )
    else:
        rec["changes"] = ch.attribute_all(ch.diff_snapshots(base, final), steps)
        rec["evidence"] = ch.check_evidence(
            _load_json(run_dir / "state" / "checks.json"), rec["score"], rec["changes"], steps
        )
    return rec


CAST_EMBED_MAX = 40 * 1024 * 1024


def _casts(run_dir: Path, steps: list[dict[str, Any]]) -> dict[str, str]:
    """Terminal recordings the steps play (embedded: a page from disk cannot fetch files)."""
    out: dict[str, str] = {}
    for step in steps:
        name = (step.get("terminal") or {}).get("cast")
        path = run_dir / str(name)
        inside = run_dir.resolve() in path.resolve().parents
        fits = inside and path.is_file() and path.stat().st_size <= CAST_EMBED_MAX
        if name and name not in out and fits:
            out[name] = path.read_text(encoding="utf-8", errors="replace")
    return out


_ASSETS = resources.files("rig") / "assets"


def asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def verdict(score: dict[str, Any] | None, episode: dict[str, Any]) -> str:
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


def _evidence_links(ev: dict[str, Any] | None, ns: str = "", base: str = "") -> str:
    if not ev:
        return ""
    links = [f'<a href="#{ns}{html.escape(c)}">change</a>' for c in ev.get("changes", [])[:8]]
    more = len(ev.get("changes", [])) - 8
    if more > 0:
        links.append(f"+{more}")
    links += [changes_view.step_link(s, "", base) for s in ev.get("steps", [])[:8]]
    note = html.escape(ev.get("note", ""))
    return f'<span class="kbd">{note}</span> ' + " ".join(links)


def checks_table(
    score: dict[str, Any] | None,
    evidence: dict[str, Any] | None = None,
    ns: str = "",
    base: str = "",
) -> str:
    """The checks with their evidence; ``ns``/``base`` as in :func:`changes_view.render`."""
    if not score:
        return ""
    rows = []
    for group in ("checks", "safety"):
        for c in score.get(group) or []:
            ok = c.get("passed")
            mark = '<span class="pass">✓</span>' if ok else '<span class="fail">✗</span>'
            ev = (evidence or {}).get(str(c.get("name")))
            rows.append(
                f'<tr class="{"ok" if ok else "bad"}"><td>{group}</td><td>{mark}</td>'
                f"<td>{html.escape(str(c.get('name', '')))}</td>"
                f"<td>{html.escape(str(c.get('detail', '')))}</td>"
                f"<td>{_evidence_links(ev, ns, base)}</td></tr>"
            )
    if not rows:
        return ""
    return (
        '<table id="checks"><tr><th></th><th></th><th>check</th><th>detail</th>'
        "<th>evidence</th></tr>" + "".join(rows) + "</table>"
    )


def _changes(rec: dict[str, Any], run_dir: Path) -> str:
    shift = world_shift(rec["task"], rec["episode"])
    return changes_view.render(
        rec["changes"], run_dir, rec["steps"], shift=shift, missing=rec.get("missing", "")
    )


def page_payload(rec: dict[str, Any]) -> str:
    """The record the step view's script reads (JSON, safe inside a script element)."""
    data = {k: rec[k] for k in ("task", "steps", "t0")}
    if rec.get("casts"):
        data["casts"] = rec["casts"]  # the terminal player's recordings (rig/assets/terminal.js)
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def render_episode(run_dir: Path) -> str:
    rec = load_episode(run_dir)
    task, score, episode = rec["task"], rec["score"], rec["episode"]
    phases = episode.get("phases", {})
    phase_text = ", ".join(
        f"{k} {v.get('seconds', '?')}s" for k, v in phases.items() if isinstance(v, dict)
    )
    title = html.escape(task.get("title") or task.get("id") or run_dir.name)
    transcripts = (
        sorted((run_dir / "transcripts").glob("*.log"))
        if (run_dir / "transcripts").is_dir()
        else []
    )
    links = " ".join(
        f'<a href="transcripts/{html.escape(p.name)}">{html.escape(p.stem)} transcript</a>'
        for p in transcripts
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} — clawrig episode</title><style>{asset("report.css")}</style>
<style>{asset("terminal.css")}</style></head><body>
<header><h1>{title}</h1>
<div>{verdict(score, episode)} · {len(rec["steps"])} steps · {html.escape(phase_text)} {links}</div>
{_agent_error(score, episode)}
<p><b>Instruction:</b> {html.escape(task.get("instruction", ""))}</p>
{checks_table(score, rec["evidence"])}
<p class="kbd">←/→ or j/k: previous/next step · Home/End · t: UI tree · /: search steps</p></header>
{timeline.render(rec)}
{_changes(rec, run_dir)}
<main id="steps"><nav id="nav"><input id="search" type="search" placeholder="search steps (/)">
<div id="list"></div></nav><section id="step"></section></main>
<script type="application/json" id="record">{page_payload(rec)}</script>
<script>{asset("terminal.js")}</script>
<script>{asset("report.js")}</script></body></html>"""


def render_index(suite_dir: Path, trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """A suite page linking every trial's report (see :mod:`rig.report.index`)."""
    from rig.report.index import render_index as _render

    return _render(suite_dir, trials, summary)


def write_report(run_dir: Path) -> Path:
    out = run_dir / "report.html"
    out.write_text(render_episode(run_dir), encoding="utf-8")
    return out
