"""The nightly run: soundness first, then every agent, compared with the night before.

One night is one dated folder under the config's ``out``::

    OUT/history.jsonl           one row per night per agent (pass@1, pass^k, infra, wall time)
    OUT/2026-03-16/night.json   what ran, how far it got, the verdict
    OUT/2026-03-16/soundness/{oracle,noop}/   suite runs of the two reference agents
    OUT/2026-03-16/soundness.json             per task: sound | unsound | unknown (infra)
    OUT/2026-03-16/agents/NAME/               the agent's suite run (+ replay/, replay.json)
    OUT/2026-03-16/compare/NAME.{json,html}   against the last complete night
    OUT/2026-03-16/index.html                 the morning page
    OUT/index.html                            every night's verdict and the history charts

Every stage is a suite run with resume, so a night killed at any point (SIGKILL, a
reboot) continues where it stopped when the same command runs again: a finished trial
is never repeated. Without ``--date`` the latest unfinished night is resumed, so a night
that crosses midnight stays one night.
"""

from __future__ import annotations

import html
import json
import re
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rig.compare import Thresholds, compare_runs, render_html
from rig.config import RigConfig, check_ray_address, parse_config
from rig.errors import ConfigInvalid
from rig.farm import hold_out_folder
from rig.flaky import replay_run
from rig.index_extras import HISTORY, annotate_index, history_charts
from rig.recorder import write_json
from rig.run_folder import SOUNDNESS, load_run
from rig.suite import RESULTS, read_results, run_suite

NIGHT = "night.json"
HISTORY_FILE = "history.jsonl"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Say = Callable[[str], None]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NightlyAgent(_M):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="folder name")
    agent: str = Field(min_length=1, description="oracle | noop | openai:MODEL | replay:PATH")
    config: dict[str, Any] = Field(
        default_factory=dict, description="rig.toml tables overridden for this agent"
    )

    @field_validator("agent")
    @classmethod
    def _known(cls, value: str) -> str:
        kind, _, arg = value.partition(":")
        if kind in ("oracle", "noop") or (kind in ("replay", "openai") and arg):
            return value
        raise ValueError(f"{value!r}: expected oracle, noop, replay:PATH or openai:MODEL")


class ReplaySettings(_M):
    enabled: bool = True
    times: int = Field(default=1, ge=1, le=20)
    threshold: float = Field(default=0.0, ge=0.0, lt=1.0)


class NightlyConfig(_M):
    suite: Path
    out: Path
    agents: list[NightlyAgent] = Field(min_length=1)
    trials: int = Field(default=3, ge=1, le=100)
    workers: int | None = Field(default=None, ge=1)
    ray: str | None = None
    ray_cpus: float | None = Field(default=None, gt=0)
    retries: int = Field(default=1, ge=0)
    soundness: bool = True
    replay: ReplaySettings = Field(default_factory=ReplaySettings)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    phase_ratio: float = Field(default=0.5, gt=0)
    phase_min_seconds: float = Field(default=1.0, ge=0)
    config: dict[str, Any] = Field(
        default_factory=dict, description="rig.toml tables overridden for every run"
    )

    @field_validator("agents")
    @classmethod
    def _unique(cls, agents: list[NightlyAgent]) -> list[NightlyAgent]:
        names = [a.name for a in agents]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"agent names must be unique: {', '.join(dupes)}")
        return agents

    @field_validator("ray")
    @classmethod
    def _ray(cls, value: str | None) -> str | None:
        if value is not None:
            check_ray_address(value)
        return value

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.alpha, self.phase_ratio, self.phase_min_seconds)


def load_nightly_config(path: Path) -> NightlyConfig:
    """The TOML nightly config; relative paths are relative to the file. Errors name the
    file and every bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigInvalid(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid(f"{path}: not valid TOML: {exc}") from None
    try:
        cfg = NightlyConfig.model_validate(data)
    except ValidationError as exc:
        lines = "\n".join(
            f"  {'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigInvalid(f"{path}: invalid nightly config:\n{lines}") from None
    base = path.resolve().parent
    cfg.suite = (base / cfg.suite).resolve()
    cfg.out = (base / cfg.out).resolve()
    if not cfg.suite.is_dir():
        raise ConfigInvalid(f"{path}: suite: {cfg.suite} is not a folder")
    return cfg


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def rig_config(base: RigConfig, *overrides: dict[str, Any], where: str) -> RigConfig:
    data = base.model_dump(mode="json")
    for over in overrides:
        data = _merge(data, over)
    try:
        return parse_config(data, base.source)
    except ConfigInvalid as exc:
        raise ConfigInvalid(f"{where}: {exc}") from None


def _nights(out: Path) -> list[Path]:
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_dir() and DATE.match(p.name))


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def pick_night(out: Path, date: str | None, now: datetime | None = None) -> Path:
    """``date``'s folder; else the latest unfinished night (resume); else today's (UTC)."""
    if date is not None:
        if not DATE.match(date):
            raise ConfigInvalid(f"--date: {date!r} is not YYYY-MM-DD")
        return out / date
    for night in reversed(_nights(out)):
        if _read(night / NIGHT).get("status") != "complete":
            return night
    return out / (now or datetime.now(UTC)).strftime("%Y-%m-%d")


def previous_night(out: Path, night: Path) -> Path | None:
    """The latest complete night before ``night``."""
    for other in reversed(_nights(out)):
        if other.name < night.name and _read(other / NIGHT).get("status") == "complete":
            return other
    return None


def soundness_of(oracle: Path, noop: Path) -> dict[str, dict[str, Any]]:
    """Per task: ``sound`` (oracle passes, noop fails), ``unsound`` (a verdict is wrong or
    the rig broke on the task), or ``unknown`` (an infra error left no verdict)."""
    rows = {"oracle": read_results(oracle), "noop": read_results(noop)}
    tasks: dict[str, dict[str, Any]] = {}
    ids = sorted({t for r in rows.values() for t, _ in r})
    for task in ids:
        problems, unknown = [], False
        for agent, want in (("oracle", True), ("noop", False)):
            row = rows[agent].get((task, 0))
            if row is None:
                unknown = True
                problems.append(f"{agent}: no result")
            elif row.get("infra_error"):
                unknown = True
                problems.append(f"{agent}: infra error: {row['infra_error']}")
            elif row.get("error"):
                problems.append(f"{agent}: error: {row['error']}")
            elif bool(row.get("passed")) != want:
                problems.append(
                    f"{agent} {'passes' if row.get('passed') else 'fails'}; it must "
                    f"{'pass' if want else 'fail'}"
                )
        wrong = [p for p in problems if "infra error" not in p and "no result" not in p]
        status = "unsound" if wrong else "unknown" if unknown else "sound"
        tasks[task] = {"status": status, "problems": problems}
    return tasks


def _history_rows(out: Path) -> list[dict[str, Any]]:
    path = out / HISTORY_FILE
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def record_history(out: Path, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Add (or replace) the row of ``row['night']`` × ``row['agent']``; returns all rows."""
    rows = [
        r
        for r in _history_rows(out)
        if (r.get("night"), r.get("agent")) != (row["night"], row["agent"])
    ]
    rows.append(row)
    rows.sort(key=lambda r: (str(r.get("night")), str(r.get("agent"))))
    tmp = out / f".{HISTORY_FILE}.tmp"
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    tmp.replace(out / HISTORY_FILE)
    return rows


class Night:
    """One night's state in ``night.json``, rewritten (atomically) at every stage."""

    def __init__(self, folder: Path, config_path: Path) -> None:
        self.folder = folder
        self.path = folder / NIGHT
        self.data = _read(self.path) or {
            "night": folder.name,
            "folder": str(folder),
            "config": str(config_path.resolve()),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": "running",
            "runs": 0,
            "agents": {},
        }
        self.data["status"] = "running"
        self.data["runs"] = int(self.data.get("runs", 0)) + 1  # how many times it was started
        self.save()

    def save(self) -> None:
        write_json(self.path, self.data)

    def agent(self, name: str) -> dict[str, Any]:
        return self.data["agents"].setdefault(name, {"seconds": 0.0, "status": "pending"})


def run_night(
    config_path: Path,
    base: RigConfig,
    date: str | None = None,
    say: Say = lambda _m: None,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    print_compare: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) one night; returns ``night.json``'s content with the verdict."""
    cfg = load_nightly_config(config_path)
    common = rig_config(base, cfg.config, where=f"{config_path}: config")
    # Every agent's settings are checked now, not hours later when its turn comes.
    for spec in cfg.agents:
        rig_config(common, spec.config, where=f"{config_path}: agents.{spec.name}")
    cfg.out.mkdir(parents=True, exist_ok=True)
    folder = pick_night(cfg.out, date)
    folder.mkdir(parents=True, exist_ok=True)
    with hold_out_folder(folder):  # one driver per night: a second one is refused at once
        return _run_night(cfg, config_path, common, folder, say, on_result, print_compare)


def _run_night(
    cfg: NightlyConfig,
    config_path: Path,
    common: RigConfig,
    folder: Path,
    say: Say,
    on_result: Callable[[str, dict[str, Any]], None] | None,
    print_compare: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    night = Night(folder, config_path)
    before = previous_night(cfg.out, folder)
    say(f"night {folder} (previous complete night: {before.name if before else 'none'})")
    run_args = {
        "workers": cfg.workers,
        "resume": True,
        "retries": cfg.retries,
        "ray": cfg.ray,
        "ray_cpus": cfg.ray_cpus,
    }
    reasons: list[str] = []

    soundness: dict[str, dict[str, Any]] = {}
    if cfg.soundness:
        for ref in ("oracle", "noop"):
            say(f"soundness: {ref} over every task")
            run_suite(
                cfg.suite,
                ref,
                common,
                folder / "soundness" / ref,
                1,
                on_result=_tagged(on_result, f"soundness/{ref}"),
                **run_args,
            )
        soundness = soundness_of(folder / "soundness" / "oracle", folder / "soundness" / "noop")
        old = (_read(before / SOUNDNESS).get("tasks") or {}) if before else {}
        newly = sorted(
            t
            for t, s in soundness.items()
            if s["status"] == "unsound" and old.get(t, {}).get("status") != "unsound"
        )
        write_json(folder / SOUNDNESS, {"tasks": soundness, "newly_unsound": newly})
        night.data["newly_unsound"] = newly
        for t in newly:
            say(f"NEWLY UNSOUND: {t}: {'; '.join(soundness[t]['problems'])}")
            reasons.append(f"task {t} became unsound")
        night.save()

    for spec in cfg.agents:
        state = night.agent(spec.name)
        agent_cfg = rig_config(common, spec.config, where=f"{config_path}: agents.{spec.name}")
        run = folder / "agents" / spec.name
        say(f"agent {spec.name} ({spec.agent}): {cfg.trials} trials per task")
        state["status"] = "running"
        night.save()
        started = time.monotonic()
        try:
            summary = run_suite(
                cfg.suite,
                spec.agent,
                agent_cfg,
                run,
                cfg.trials,
                on_result=_tagged(on_result, spec.name),
                **run_args,
            )
        finally:
            state["seconds"] = round(state["seconds"] + time.monotonic() - started, 3)
            night.save()
        if cfg.soundness:
            write_json(run / SOUNDNESS, {"tasks": soundness})
        if cfg.replay.enabled:
            say(f"replay {spec.name}: every trajectory on a fresh world x{cfg.replay.times}")
            started = time.monotonic()
            replay = replay_run(
                run,
                agent_cfg,
                cfg.replay.times,
                cfg.replay.threshold,
                cfg.workers,
                cfg.ray,
                cfg.ray_cpus,
                cfg.retries,
            )
            state["replay_seconds"] = round(
                state.get("replay_seconds", 0.0) + time.monotonic() - started, 3
            )
            state["flaky"] = replay["flagged"]
        state["summary"] = {
            k: summary.get(k) for k in ("tasks", "trials", "passed", "infra_errors", "errors")
        }
        previous = before / "agents" / spec.name if before else None
        if previous is not None and (previous / RESULTS).is_file():
            report = compare_runs(load_run(previous), load_run(run), cfg.thresholds)
            write_json(folder / "compare" / f"{spec.name}.json", report)
            (folder / "compare" / f"{spec.name}.html").write_text(render_html(report), "utf-8")
            if print_compare is not None:
                print_compare(report)
            state["regressed"] = report["regressed"]
            state["reasons"] = report["reasons"]
            reasons += [f"{spec.name}: {r}" for r in report["reasons"] if "unsound" not in r]
        else:
            state["regressed"], state["reasons"] = False, []
        rows = record_history(
            cfg.out, _history_row(folder.name, spec.name, run, summary, state, cfg)
        )
        write_json(run / HISTORY, [r for r in rows if r.get("agent") == spec.name])
        annotate_index(run)
        state["status"] = "complete"
        night.save()

    night.data.update(
        status="complete",
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        regressed=bool(reasons),
        reasons=reasons,
    )
    night.save()
    history = _history_rows(cfg.out)
    (folder / "index.html").write_text(
        render_night(folder, night.data, soundness, history), encoding="utf-8"
    )
    (cfg.out / "index.html").write_text(render_nights(cfg.out, history), encoding="utf-8")
    return night.data


def _tagged(
    on_result: Callable[[str, dict[str, Any]], None] | None, tag: str
) -> Callable[[dict[str, Any], int, int], None] | None:
    if on_result is None:
        return None
    return lambda row, _finished, _total: on_result(tag, row)


def _history_row(
    night: str,
    agent: str,
    run: Path,
    summary: dict[str, Any],
    state: dict[str, Any],
    cfg: NightlyConfig,
) -> dict[str, Any]:
    loaded = load_run(run)
    attempts = len(loaded.attempts)
    infra = sum(1 for r in loaded.attempts if r.get("infra_error"))
    return {
        "night": night,
        "agent": agent,
        "pass_at_1": summary.get("pass_at_k", {}).get("1"),
        "pass_hat_k": summary.get("pass_hat_k", {}).get(str(cfg.trials)),
        "k": cfg.trials,
        "infra_rate": infra / attempts if attempts else None,
        "wall_seconds": state["seconds"],
        "trials": summary.get("trials"),
        "untrusted": len(loaded.unsound()),
        "flaky": len(state.get("flaky", [])),
        "regressed": state.get("regressed", False),
    }


def render_night(
    folder: Path,
    data: dict[str, Any],
    soundness: dict[str, dict[str, Any]],
    history: list[dict[str, Any]],
) -> str:
    """The morning page: verdict, newly unsound tasks first, agents, history chart."""
    e = html.escape
    verdict = "Regressed" if data.get("regressed") else "No regression"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>clawrig nightly {e(folder.name)}</title><style>",
        "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f}",
        "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;"
        "text-align:left}.bad{color:#b3261e;font-weight:600}.ok{color:#0a7d32}</style>",
        f"</head><body><h1>Nightly {e(folder.name)}: "
        f"<span class='{'bad' if data.get('regressed') else 'ok'}'>{verdict}</span></h1>",
    ]
    if data.get("reasons"):
        parts.append("<ul class='bad'>" + "".join(f"<li>{e(r)}</li>" for r in data["reasons"]))
        parts.append("</ul>")
    newly = data.get("newly_unsound") or []
    unsound = sorted(t for t, s in soundness.items() if s["status"] != "sound")
    if unsound:
        parts.append("<h2>Soundness: tasks whose results are not trusted tonight</h2><table>")
        parts.append("<tr><th>task</th><th>status</th><th>why</th></tr>")
        for t in sorted(unsound, key=lambda t: (t not in newly, t)):
            s = soundness[t]
            status = s["status"] + (" (new)" if t in newly else "")
            parts.append(
                f"<tr><td>{e(t)}</td><td class='bad'>{e(status)}</td>"
                f"<td>{e('; '.join(s['problems']))}</td></tr>"
            )
        parts.append("</table>")
    elif soundness:
        parts.append(f"<p class='ok'>All {len(soundness)} tasks sound.</p>")
    parts.append(
        "<h2>Agents</h2><table><tr><th>agent</th><th>pass@1</th><th>pass^k</th>"
        "<th>infra rate</th><th>wall</th><th>flaky</th><th>vs last night</th><th></th></tr>"
    )
    rows = {r["agent"]: r for r in history if r.get("night") == folder.name}
    for name, state in data.get("agents", {}).items():
        row = rows.get(name, {})
        compare = folder / "compare" / f"{name}.html"
        verdict_cell = "no previous night"
        if compare.is_file():
            word = "regressed" if state.get("regressed") else "no regression"
            verdict_cell = f"<a href='compare/{e(name)}.html'>{word}</a>"
        parts.append(
            f"<tr><td>{e(name)}</td><td>{_num(row.get('pass_at_1'))}</td>"
            f"<td>{_num(row.get('pass_hat_k'))}</td><td>{_num(row.get('infra_rate'))}</td>"
            f"<td>{state.get('seconds', 0) / 60:.1f} min</td>"
            f"<td>{e(', '.join(state.get('flaky', [])))}</td><td>{verdict_cell}</td>"
            f"<td><a href='agents/{e(name)}/index.html'>trials</a></td></tr>"
        )
    parts.append("</table>")
    if history:
        parts.append("<h2>History</h2>" + history_charts(history))
    parts.append("</body></html>")
    return "".join(parts)


def render_nights(out: Path, history: list[dict[str, Any]]) -> str:
    """``OUT/index.html``: every night, newest first, with its verdict, and the history."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>clawrig nightly</title><style>",
        "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f}",
        "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;"
        "text-align:left}.bad{color:#b3261e;font-weight:600}.ok{color:#0a7d32}</style>",
        "</head><body><h1>Nightly runs</h1>",
    ]
    if history:
        parts.append(history_charts(history))
    parts.append("<table><tr><th>night</th><th>verdict</th><th>why</th></tr>")
    for night in reversed(_nights(out)):
        data = _read(night / NIGHT)
        if data.get("status") != "complete":
            verdict = f"<td>{e(str(data.get('status', 'unknown')))}</td>"
        elif data.get("regressed"):
            verdict = "<td class='bad'>regressed</td>"
        else:
            verdict = "<td class='ok'>no regression</td>"
        parts.append(
            f"<tr><td><a href='{e(night.name)}/index.html'>{e(night.name)}</a></td>{verdict}"
            f"<td>{e('; '.join(data.get('reasons') or []))}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "".join(parts)


def _num(x: Any) -> str:
    return "-" if x is None else f"{float(x):.3f}"
