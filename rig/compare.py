"""``rig suite compare OLD NEW``: what changed between two runs of a suite, and is it real.

Per task and overall: pass rate with Wilson intervals, the change with Newcombe's
interval, Fisher's exact test on the pass/fail counts (per-task p-values Holm-adjusted
across tasks, so 200 tasks do not produce "regressions" by chance; overall, the exact
test stratified by task, so easy and hard tasks are not pooled), pass^k and its
change (a task-bootstrap interval overall), tasks whose verdict flipped, infra errors
by cause that grew, and phase times (allocate, seed, agent, score) that slowed beyond a
threshold. A task the new run's soundness pass found unsound is untrusted: shown, kept
out of the tests, and, when it was not unsound before, a reason to fail the gate.
"""

from __future__ import annotations

import html
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rig.run_folder import PHASES, Run, load_run
from scoring.metrics import pass_hat_k, wilson_interval
from scoring.significance import (
    bootstrap_interval,
    fisher_exact,
    holm,
    newcombe_interval,
    stratified_exact,
)


@dataclass(frozen=True)
class Thresholds:
    alpha: float = 0.05  # significance level of the exact tests
    phase_ratio: float = 0.5  # a phase regressed when its median grew by more than this share
    phase_min_seconds: float = 1.0  # ... and by more than this many seconds (noise floor)


def _side(n: int, c: int, k: int | None) -> dict[str, Any]:
    lo, hi = wilson_interval(c, n)
    side: dict[str, Any] = {
        "trials": n,
        "passed": c,
        "rate": c / n if n else None,
        "wilson_95": [lo, hi],
    }
    if k is not None and n >= k:
        side["pass_hat_k"] = pass_hat_k(n, c, k)
        side["pass_hat_k_95"] = [lo**k, hi**k]  # pass^k = p^k under i.i.d. trials
    return side


def _verdict(n: int, c: int) -> str | None:
    return None if n == 0 else ("pass" if 2 * c > n else "fail")


def _mean_pass_hat(items: list[tuple[int, int, int, int]], k: int) -> tuple[float, float]:
    old = sum(pass_hat_k(n1, c1, k) for n1, c1, _, _ in items) / len(items)
    new = sum(pass_hat_k(n2, c2, k) for _, _, n2, c2 in items) / len(items)
    return old, new


def _phase_change(old: list[float], new: list[float], th: Thresholds) -> dict[str, Any] | None:
    if not old or not new:
        return None
    a, b = statistics.median(old), statistics.median(new)
    grew = b - a
    return {
        "old_median_s": round(a, 3),
        "new_median_s": round(b, 3),
        "ratio": round(b / a, 3) if a > 0 else None,
        "regressed": grew > th.phase_min_seconds and (a == 0 or grew / a > th.phase_ratio),
    }


def compare_runs(old: Run, new: Run, th: Thresholds = Thresholds()) -> dict[str, Any]:
    """The whole comparison as plain data (what ``compare.json`` holds)."""
    k = max(1, min(old.trials, new.trials))
    oc, nc = old.counts(), new.counts()
    untrusted = new.unsound() | old.unsound()
    flaky_new, flaky_old = new.flagged(), old.flagged()
    common = sorted(set(oc) & set(nc))
    tasks: list[dict[str, Any]] = []
    tested: list[dict[str, Any]] = []
    for t in common:
        (n1, c1), (n2, c2) = oc[t], nc[t]
        row: dict[str, Any] = {
            "task_id": t,
            "old": _side(n1, c1, k),
            "new": _side(n2, c2, k),
            "untrusted": t in untrusted,
            "flaky": t in flaky_new or t in flaky_old,
            "flipped": None,
        }
        v1, v2 = _verdict(n1, c1), _verdict(n2, c2)
        if v1 and v2 and v1 != v2:
            row["flipped"] = f"{v1}->{v2}"
        if n1 and n2:
            row["diff"] = c2 / n2 - c1 / n1
            row["diff_95"] = list(newcombe_interval(c1, n1, c2, n2))
            row["p"] = fisher_exact(c1, n1 - c1, c2, n2 - c2)
            if not row["untrusted"]:
                tested.append(row)
        tasks.append(row)
    for row, adjusted in zip(tested, holm([r["p"] for r in tested]), strict=True):
        row["p_holm"] = adjusted
        row["significant"] = adjusted < th.alpha
        row["change"] = _direction(row["diff"]) if row["significant"] else "none"

    trusted = [t for t in common if t not in untrusted]
    n1 = sum(oc[t][0] for t in trusted)
    c1 = sum(oc[t][1] for t in trusted)
    n2 = sum(nc[t][0] for t in trusted)
    c2 = sum(nc[t][1] for t in trusted)
    overall: dict[str, Any] = {
        "tasks": len(trusted),
        "old": _side(n1, c1, None),
        "new": _side(n2, c2, None),
    }
    if n1 and n2:
        # The test is stratified by task (each task its own 2x2 table); the pooled
        # Fisher p is kept for reference. Direction: did the old run pass more than
        # the margins make expected?
        strata = [
            (oc[t][1], oc[t][0] - oc[t][1], nc[t][1], nc[t][0] - nc[t][1])
            for t in trusted
            if oc[t][0] and nc[t][0]
        ]
        p, expected = stratified_exact(strata)
        old_passes = sum(a for a, _, _, _ in strata)
        overall.update(
            diff=c2 / n2 - c1 / n1,
            diff_95=list(newcombe_interval(c1, n1, c2, n2)),
            p=p,
            p_pooled_fisher=fisher_exact(c1, n1 - c1, c2, n2 - c2),
            significant=p < th.alpha,
            change=("worse" if old_passes > expected else "better") if p < th.alpha else "none",
        )
    paired = [(*oc[t], *nc[t]) for t in trusted if oc[t][0] >= k and nc[t][0] >= k]
    if paired:
        ph_old, ph_new = _mean_pass_hat(paired, k)
        lo, hi = bootstrap_interval(
            [pass_hat_k(n2, c2, k) - pass_hat_k(n1, c1, k) for n1, c1, n2, c2 in paired]
        )
        overall["pass_hat_k"] = {
            "k": k,
            "tasks": len(paired),
            "old": ph_old,
            "new": ph_new,
            "diff": ph_new - ph_old,
            "diff_95": [lo, hi],
        }

    causes_old, causes_new = old.infra_by_cause(), new.infra_by_cause()
    new_infra = [
        {"cause": cause, "old": causes_old.get(cause, 0), "new": count}
        for cause, count in causes_new.items()
        if count > causes_old.get(cause, 0)
    ]

    phase_overall = []
    for name in PHASES:
        change = _phase_change(
            [s for t in trusted for s in old.phases.get(t, {}).get(name, [])],
            [s for t in trusted for s in new.phases.get(t, {}).get(name, [])],
            th,
        )
        if change:
            phase_overall.append({"phase": name, **change})
    phase_tasks = []
    for t in trusted:
        for name in PHASES:
            change = _phase_change(
                old.phases.get(t, {}).get(name, []), new.phases.get(t, {}).get(name, []), th
            )
            if change and change["regressed"]:
                phase_tasks.append({"task_id": t, "phase": name, **change})

    newly_unsound = sorted(new.unsound() - old.unsound())
    reasons = [f"task {t} became unsound" for t in newly_unsound]
    if overall.get("change") == "worse":
        reasons.append(
            f"overall pass rate fell {overall['old']['rate']:.3f} -> {overall['new']['rate']:.3f}"
            f" (exact stratified p={overall['p']:.4g})"
        )
    for row in tasks:
        if row.get("change") == "worse":
            reasons.append(
                f"task {row['task_id']} pass rate fell {row['old']['passed']}/"
                f"{row['old']['trials']} -> {row['new']['passed']}/{row['new']['trials']}"
                f" (Holm-adjusted p={row['p_holm']:.4g})"
            )
    return {
        "old": str(old.path),
        "new": str(new.path),
        "agents": {"old": old.agent, "new": new.agent},
        "k": k,
        "thresholds": th.__dict__,
        "overall": overall,
        "tasks": tasks,
        "added": sorted(set(nc) - set(oc)),
        "removed": sorted(set(oc) - set(nc)),
        "flipped": [
            {"task_id": r["task_id"], "flip": r["flipped"], "untrusted": r["untrusted"]}
            for r in tasks
            if r["flipped"]
        ],
        "new_infra": new_infra,
        "infra": {"old": causes_old, "new": causes_new},
        "phases": {"overall": phase_overall, "tasks": phase_tasks},
        "unsound": {
            "new": sorted(new.unsound()),
            "newly": newly_unsound,
            "problems": {
                t: (new.soundness or {}).get(t, {}).get("problems", []) for t in new.unsound()
            },
        },
        "flaky": {"old": sorted(flaky_old), "new": sorted(flaky_new)},
        "regressed": bool(reasons),
        "reasons": reasons,
    }


def _direction(diff: float) -> str:
    return "worse" if diff < 0 else "better"


def compare_folders(old: Path, new: Path, th: Thresholds = Thresholds()) -> dict[str, Any]:
    return compare_runs(load_run(old), load_run(new), th)


# -- output ---------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _iv(pair: list[float] | None, signed: bool = False) -> str:
    if not pair:
        return ""
    fmt = "{:+.1f}" if signed else "{:.1f}"
    return f"[{fmt.format(100 * pair[0])}, {fmt.format(100 * pair[1])}]"


def _pvalue(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def print_report(report: dict[str, Any], console: Console) -> None:
    """The comparison as rich tables. Every text from a results file is a ``Text``, so
    markup in a task id or an error message is shown, never interpreted."""
    ov = report["overall"]
    console.print(Text(f"compare {report['old']} -> {report['new']} (k={report['k']})"))
    if report["unsound"]["newly"]:
        console.print(Text("NEWLY UNSOUND (results untrusted):", style="bold red"))
        for t in report["unsound"]["newly"]:
            problems = "; ".join(report["unsound"]["problems"].get(t, []))
            console.print(Text(f"  {t}: {problems}"))
    if "diff" in ov:
        line = (
            f"overall ({ov['tasks']} tasks): pass rate {_pct(ov['old']['rate'])} "
            f"{_iv(ov['old']['wilson_95'])} -> {_pct(ov['new']['rate'])} "
            f"{_iv(ov['new']['wilson_95'])}, change {100 * ov['diff']:+.1f} "
            f"{_iv(ov['diff_95'], True)}, p={_pvalue(ov['p'])} (exact, stratified by task)"
        )
        console.print(Text(line, style="bold red" if ov["change"] == "worse" else ""))
    ph = ov.get("pass_hat_k")
    if ph:
        console.print(
            Text(
                f"pass^{ph['k']} ({ph['tasks']} tasks): {ph['old']:.3f} -> {ph['new']:.3f}, "
                f"change {ph['diff']:+.3f} [{ph['diff_95'][0]:+.3f}, {ph['diff_95'][1]:+.3f}]"
            )
        )
    table = Table(title="per task", show_lines=False)
    for col in ("task", "old", "new", "change [95%]", "p", "p (Holm)", f"pass^{report['k']}", ""):
        table.add_column(col)
    for row in report["tasks"]:
        notes = []
        if row.get("change") in ("worse", "better"):
            notes.append(row["change"].upper())
        if row["flipped"]:
            notes.append(f"flipped {row['flipped']}")
        if row["untrusted"]:
            notes.append("untrusted")
        if row["flaky"]:
            notes.append("flaky")
        o, n = row["old"], row["new"]
        style = (
            "red"
            if row.get("change") == "worse"
            else "green"
            if row.get("change") == "better"
            else ""
        )
        table.add_row(
            Text(row["task_id"]),
            Text(f"{o['passed']}/{o['trials']}"),
            Text(f"{n['passed']}/{n['trials']}"),
            Text(f"{100 * row['diff']:+.0f} {_iv(row['diff_95'], True)}" if "diff" in row else "-"),
            Text(_pvalue(row.get("p"))),
            Text(_pvalue(row.get("p_holm"))),
            Text(_pass_hat_cell(o, n)),
            Text(", ".join(notes), style=style),
        )
    console.print(table)
    for cause in report["new_infra"]:
        console.print(Text(f"infra errors up: {cause['cause']}: {cause['old']} -> {cause['new']}"))
    for p in report["phases"]["overall"]:
        if p["regressed"]:
            console.print(
                Text(
                    f"phase {p['phase']} slower: median {p['old_median_s']}s -> "
                    f"{p['new_median_s']}s",
                    style="yellow",
                )
            )
    for p in report["phases"]["tasks"]:
        console.print(
            Text(
                f"  {p['task_id']}: {p['phase']} {p['old_median_s']}s -> {p['new_median_s']}s",
                style="yellow",
            )
        )
    if report["flaky"]["new"]:
        console.print(
            Text("flaky (replay changes the score): " + ", ".join(report["flaky"]["new"]))
        )
    verdict = (
        "REGRESSED: " + "; ".join(report["reasons"]) if report["regressed"] else "no regression"
    )
    console.print(Text(verdict, style="bold red" if report["regressed"] else "bold green"))


def _pass_hat_cell(o: dict[str, Any], n: dict[str, Any]) -> str:
    if "pass_hat_k" not in o or "pass_hat_k" not in n:
        return "-"
    return f"{o['pass_hat_k']:.2f} -> {n['pass_hat_k']:.2f}"


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page; every value from the runs is HTML-escaped."""
    e = html.escape
    ov = report["overall"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>clawrig compare</title><style>",
        "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f}",
        "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;"
        "text-align:left}.worse{color:#b3261e;font-weight:600}.better{color:#0a7d32}"
        ".warn{color:#8a5a00}</style></head><body>",
        f"<h1>{'Regressed' if report['regressed'] else 'No regression'}</h1>",
        f"<p>{e(report['old'])} &rarr; {e(report['new'])} (k={report['k']})</p>",
    ]
    if report["reasons"]:
        parts.append("<ul class='worse'>")
        parts += [f"<li>{e(r)}</li>" for r in report["reasons"]]
        parts.append("</ul>")
    if report["unsound"]["new"]:
        parts.append("<h2>Unsound tasks (results untrusted)</h2><ul>")
        for t in report["unsound"]["new"]:
            newly = " <b>(new)</b>" if t in report["unsound"]["newly"] else ""
            problems = "; ".join(report["unsound"]["problems"].get(t, []))
            parts.append(f"<li>{e(t)}{newly}: {e(problems)}</li>")
        parts.append("</ul>")
    if "diff" in ov:
        cls = "worse" if ov["change"] == "worse" else "better" if ov["change"] == "better" else ""
        parts.append(
            f"<p class='{cls}'>Overall ({ov['tasks']} tasks): {_pct(ov['old']['rate'])} "
            f"{_iv(ov['old']['wilson_95'])} &rarr; {_pct(ov['new']['rate'])} "
            f"{_iv(ov['new']['wilson_95'])}; change {100 * ov['diff']:+.1f} points "
            f"{_iv(ov['diff_95'], True)}; p = {_pvalue(ov['p'])} (exact, stratified by task;"
            f" pooled Fisher {_pvalue(ov['p_pooled_fisher'])})</p>"
        )
    if ov.get("pass_hat_k"):
        ph = ov["pass_hat_k"]
        parts.append(
            f"<p>pass^{ph['k']}: {ph['old']:.3f} &rarr; {ph['new']:.3f} (change {ph['diff']:+.3f},"
            f" 95% [{ph['diff_95'][0]:+.3f}, {ph['diff_95'][1]:+.3f}])</p>"
        )
    parts.append(
        "<h2>Tasks</h2><table><tr><th>task</th><th>old</th><th>new</th><th>change [95%]</th>"
        f"<th>p</th><th>p (Holm)</th><th>pass^{report['k']}</th><th></th></tr>"
    )
    for row in report["tasks"]:
        notes = [row.get("change", "")] if row.get("change") in ("worse", "better") else []
        notes += [f"flipped {row['flipped']}"] if row["flipped"] else []
        notes += ["untrusted"] if row["untrusted"] else []
        notes += ["flaky"] if row["flaky"] else []
        o, n = row["old"], row["new"]
        change = f"{100 * row['diff']:+.0f} {_iv(row['diff_95'], True)}" if "diff" in row else "-"
        parts.append(
            f"<tr class='{e(row.get('change', ''))}'><td>{e(row['task_id'])}</td>"
            f"<td>{o['passed']}/{o['trials']}</td><td>{n['passed']}/{n['trials']}</td>"
            f"<td>{change}</td><td>{_pvalue(row.get('p'))}</td>"
            f"<td>{_pvalue(row.get('p_holm'))}</td><td>{_pass_hat_cell(o, n)}</td>"
            f"<td>{e(', '.join(notes))}</td></tr>"
        )
    parts.append("</table>")
    if report["new_infra"]:
        parts.append("<h2>Infra errors that grew</h2><table><tr><th>cause</th><th>old</th>")
        parts.append("<th>new</th></tr>")
        parts += [
            f"<tr><td>{e(c['cause'])}</td><td>{c['old']}</td><td>{c['new']}</td></tr>"
            for c in report["new_infra"]
        ]
        parts.append("</table>")
    parts.append(
        "<h2>Phase times (median seconds)</h2><table><tr><th>phase</th><th>old</th><th>new</th>"
        "<th>ratio</th></tr>"
    )
    for p in report["phases"]["overall"]:
        cls = "warn" if p["regressed"] else ""
        parts.append(
            f"<tr class='{cls}'><td>{e(p['phase'])}</td><td>{p['old_median_s']}</td>"
            f"<td>{p['new_median_s']}</td><td>{p['ratio']}</td></tr>"
        )
    for p in report["phases"]["tasks"]:
        parts.append(
            f"<tr class='warn'><td>{e(p['task_id'])}: {e(p['phase'])}</td>"
            f"<td>{p['old_median_s']}</td><td>{p['new_median_s']}</td><td>{p['ratio']}</td></tr>"
        )
    parts.append("</table>")
    if report["flaky"]["new"]:
        parts.append("<h2>Flaky tasks (replaying the same actions changed the score)</h2><p>")
        parts.append(e(", ".join(report["flaky"]["new"])) + "</p>")
    parts.append("</body></html>")
    return "".join(parts)
