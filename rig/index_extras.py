"""What the nightly adds to a suite's ``index.html``: untrusted (unsound) tasks, flaky
tasks found by replay, and the agent's history as an inline SVG chart.

The suite index itself is rendered elsewhere (:func:`rig.viewer.render_index`); these
sections are spliced in before ``</body>`` between markers, so writing them again
replaces them and the page needs no server or script.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rig.run_folder import REPLAY, SOUNDNESS

HISTORY = "history.json"  # this agent's nightly history rows, copied into its run folder
BEGIN, END = "<!-- clawrig:nightly -->", "<!-- /clawrig:nightly -->"
COLOURS = ("#1a73e8", "#d93025", "#188038", "#e37400", "#9334e6", "#007b83", "#b06000")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def line_chart(
    series: dict[str, list[tuple[str, float | None]]],
    title: str,
    y_max: float | None = None,
    unit: str = "",
    dashes: dict[str, str] | None = None,
    colours: dict[str, str] | None = None,
    width: int = 640,
    height: int = 220,
) -> str:
    """An inline SVG line chart: one polyline per series over shared x labels (nights).
    ``None`` values leave a gap. Labels are escaped; the chart needs no script."""
    e = html.escape
    labels = sorted({x for points in series.values() for x, _ in points})
    values = [v for points in series.values() for _, v in points if v is not None]
    top = y_max if y_max is not None else (max(values) * 1.1 if values else 1.0) or 1.0
    left, right, upper, lower = 48, 150, 24, 36
    pw, ph = width - left - right, height - upper - lower

    def x(i: int) -> float:
        return left + (pw * i / (len(labels) - 1) if len(labels) > 1 else pw / 2)

    def y(v: float) -> float:
        return upper + ph * (1 - min(v, top) / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}" '
        'style="font:11px system-ui,sans-serif">',
        f'<text x="{left}" y="14" font-weight="600">{e(title)}</text>',
        f'<line x1="{left}" y1="{upper + ph}" x2="{left + pw}" y2="{upper + ph}" stroke="#999"/>',
        f'<line x1="{left}" y1="{upper}" x2="{left}" y2="{upper + ph}" stroke="#999"/>',
    ]
    for frac in (0, 0.5, 1):
        v = top * frac
        out.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.3g}{e(unit)}</text>'
        )
    step = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            out.append(
                f'<text x="{x(i):.1f}" y="{upper + ph + 14}" text-anchor="middle">'
                f"{e(label[5:] if len(label) == 10 else label)}</text>"
            )
    for n, (name, points) in enumerate(series.items()):
        colour = (colours or {}).get(name) or COLOURS[n % len(COLOURS)]
        dash = (dashes or {}).get(name, "")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        by_label = dict(points)
        run: list[str] = []
        runs: list[list[str]] = []
        for i, label in enumerate(labels):
            v = by_label.get(label)
            if v is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{x(i):.1f},{y(v):.1f}")
        if run:
            runs.append(run)
        for r in runs:
            if len(r) == 1:
                cx, cy = r[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
            else:
                out.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash_attr} '
                    f'points="{" ".join(r)}"/>'
                )
        ly = upper + 12 + 16 * n
        out.append(
            f'<line x1="{left + pw + 10}" y1="{ly - 4}" x2="{left + pw + 30}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
            f'<text x="{left + pw + 34}" y="{ly}">{e(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def history_charts(rows: Sequence[dict[str, Any]]) -> str:
    """Two charts from history rows: rates (pass@1, pass^k, infra rate) and wall time.
    One colour per agent; the metric is the line's dash (solid, dashed, dotted)."""
    rates: dict[str, list[tuple[str, float | None]]] = {}
    dashes: dict[str, str] = {}
    colours: dict[str, str] = {}
    wall: dict[str, list[tuple[str, float | None]]] = {}
    agents = list(dict.fromkeys(str(row.get("agent")) for row in rows))
    for row in rows:
        agent, night = str(row.get("agent")), str(row.get("night"))
        colour = COLOURS[agents.index(agent) % len(COLOURS)]
        colours[agent] = colour
        for key, label, dash in (
            ("pass_at_1", "pass@1", ""),
            ("pass_hat_k", "pass^k", "6 3"),
            ("infra_rate", "infra", "2 3"),
        ):
            name = f"{agent} {label}"
            rates.setdefault(name, []).append((night, row.get(key)))
            dashes[name], colours[name] = dash, colour
        minutes = row.get("wall_seconds")
        wall.setdefault(agent, []).append((night, None if minutes is None else minutes / 60))
    if not rates:
        return ""
    title = "pass@1 (solid), pass^k (dashed), infra rate (dotted) by night"
    return line_chart(rates, title, 1.0, "", dashes, colours) + line_chart(
        wall, "wall time by night (minutes)", None, "", None, colours
    )


def extra_sections(run: Path) -> str:
    """The HTML this module adds to the run's index (empty when there is nothing to add)."""
    e = html.escape
    parts = []
    soundness = _json(run / SOUNDNESS) or {}
    unsound = {
        t: s for t, s in (soundness.get("tasks") or {}).items() if s.get("status") == "unsound"
    }
    if unsound:
        parts.append("<h2>Unsound tasks: their results are untrusted</h2><ul>")
        parts += [
            f"<li class='fail'>{e(t)}: {e('; '.join(s.get('problems') or []))}</li>"
            for t, s in sorted(unsound.items())
        ]
        parts.append("</ul>")
    replay = _json(run / REPLAY) or {}
    if replay.get("tasks"):
        parts.append(
            f"<h2>Replay: same actions, fresh world (flagged above "
            f"{100 * float(replay.get('threshold', 0)):.0f}% differing)</h2>"
            "<table><tr><th>task</th><th>replays</th><th>score differed</th><th></th></tr>"
        )
        for t, entry in sorted(replay["tasks"].items()):
            flag = "<span class='fail'>flaky</span>" if entry.get("flagged") else ""
            parts.append(
                f"<tr><td>{e(t)}</td><td>{entry.get('replays', 0)}</td>"
                f"<td>{entry.get('differ', 0)}</td><td>{flag}</td></tr>"
            )
        parts.append("</table>")
    history = _json(run / HISTORY)
    if isinstance(history, list) and history:
        parts.append("<h2>History</h2>" + history_charts(history))
    if not parts:
        return ""
    return f"{BEGIN}<section class='nightly'>{''.join(parts)}</section>{END}"


def splice(page: str, block: str) -> str:
    """``page`` with the nightly block replaced (or added before ``</body>``)."""
    start = page.find(BEGIN)
    if start != -1:
        end = page.find(END, start)
        page = page[:start] + page[end + len(END) :] if end != -1 else page[:start]
    if not block:
        return page
    at = page.rfind("</body>")
    return page[:at] + block + page[at:] if at != -1 else page + block


def annotate_index(run: Path) -> None:
    """Add (or refresh) the nightly's sections in ``run/index.html`` if that page exists."""
    index = run / "index.html"
    if not index.is_file():
        return
    page = index.read_text(encoding="utf-8")
    updated = splice(page, extra_sections(run))
    if updated != page:
        index.write_text(updated, encoding="utf-8")
