"""The episode record: a self-contained folder written as the episode goes.

Layout::

    episode.json        status, phases with timings, infra error (rewritten at each phase)
    task.json           the task as the agent met it
    trajectory.jsonl    one line per step, appended and flushed as it happens
    steps/0003-before.png, 0003-after.png, 0003-ui.xml, 0003-after.thumb.jpg (by the report)
    transcripts/ROLE.log  every shell command on a device with its output
    terminal/ROLE.cast    the device's terminal as an asciicast v2 (rig/cast.py)
    seed/               the seed plan and the read-back digest per device
    final_state.json    what scoring read from the devices
    state/              baseline.json and final.json (rig.snapshot), checks.json (what checks read)
    score.json          the result

Everything goes through the :class:`~rig.redact.Redactor` first, and every
write is atomic or append-only, so a crash at any point leaves a readable
record of what happened until then. Screenshots and trajectory lines are
written by one background thread, in step order, so the agent does not wait
for PNG work; :meth:`Recorder.close` (or :meth:`Recorder.drain`) waits for them.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from rig.actions import TERMINAL_ACTIONS
from rig.cast import CastWriter
from rig.env import StepRecord
from rig.redact import Redactor

TOUCH_COLOUR = (255, 40, 90)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename) so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def draw_touch(png: bytes, touch: tuple[int, int], end: tuple[int, int] | None = None) -> bytes:
    """Mark where the agent touched (a ring) or swiped (a line with a ring at its start)."""
    image = Image.open(BytesIO(png)).convert("RGB")
    draw = ImageDraw.Draw(image)
    radius = max(12, image.width // 40)
    width = max(3, image.width // 200)
    x, y = touch
    if end is not None:
        draw.line([touch, end], fill=TOUCH_COLOUR, width=width)
        ex, ey = end
        draw.ellipse(
            [ex - width * 2, ey - width * 2, ex + width * 2, ey + width * 2], fill=TOUCH_COLOUR
        )
    draw.ellipse(
        [x - radius, y - radius, x + radius, y + radius], outline=TOUCH_COLOUR, width=width
    )
    out = BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class Recorder:
    """Writes one episode folder; pass :meth:`on_step` to :class:`~rig.env.Env`."""

    def __init__(self, root: Path, redactor: Redactor | None = None) -> None:
        self.root = root
        self.redactor = redactor or Redactor.from_environment()
        root.mkdir(parents=True, exist_ok=True)
        (root / "steps").mkdir(exist_ok=True)
        self._trajectory = open(root / "trajectory.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._episode: dict[str, Any] = {
            "status": "running",
            "started": datetime.now(UTC).isoformat(),
            "phases": {},
            "infra_error": None,
        }
        self._phase_started: dict[str, float] = {}
        self._images = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder-images")
        self._pending: list[Future[None]] = []
        self._casts: dict[str, CastWriter] = {}
        self._cast_at: dict[str, float] = {}
        self.flush_episode()

    # -- episode-level ---------------------------------------------------------------------

    def json(self, name: str, data: Any) -> Path:
        path = self.root / name
        write_json(path, self.redactor.data(data))
        return path

    def text(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.redactor.text(text), encoding="utf-8")
        return path

    def phase_start(self, name: str) -> None:
        self._phase_started[name] = time.monotonic()
        self._episode["phases"][name] = {"status": "running"}
        self._episode["current_phase"] = name
        self.flush_episode()

    def phase_end(self, name: str, status: str = "ok", **extra: Any) -> float:
        elapsed = time.monotonic() - self._phase_started.get(name, time.monotonic())
        self._episode["phases"][name] = {"status": status, "seconds": round(elapsed, 3), **extra}
        self._episode.pop("current_phase", None)
        self.flush_episode()
        return elapsed

    def set(self, **fields: Any) -> None:
        self._episode.update(fields)
        self.flush_episode()

    def flush_episode(self) -> None:
        self.json("episode.json", self._episode)

    @property
    def phases(self) -> dict[str, Any]:
        return self._episode["phases"]

    def close(self, status: str) -> None:
        """Seal the record; a screenshot or step line that could not be written is named in
        ``episode.json`` (``record_error``) rather than losing the rest of the record."""
        try:
            self.drain()
        except Exception as exc:
            self._episode["record_error"] = f"{type(exc).__name__}: {exc}"
        self._images.shutdown(wait=True)
        for cast in self._casts.values():
            cast.close()
        self._episode["status"] = status
        self._episode["ended"] = datetime.now(UTC).isoformat()
        self.flush_episode()
        self._trajectory.close()

    def terminal(self, role: str, term: Any) -> None:
        """Record ``term``'s output from now on as ``terminal/ROLE.cast`` (pass to
        :class:`~rig.env.Env` as ``on_terminal``)."""
        if role in self._casts:
            return
        writer = CastWriter(
            self.root / "terminal" / f"{role}.cast",
            term.columns,
            term.lines,
            self.redactor,
            title=role,
            repaint=term.repaint,
        )
        writer.output(writer.start, term.repaint())  # what the screen showed when it began
        term.listeners.append(writer.output)
        self._casts[role] = writer

    def event(self, **fields: Any) -> None:
        """One line of ``events.jsonl`` (what the rig did to the world while the agent
        worked: a heartbeat opening, a live event delivered), stamped with host time."""
        line = {"time": datetime.now(UTC).isoformat(), **fields}
        text = json.dumps(self.redactor.data(line), ensure_ascii=False, default=str) + "\n"
        with open(self.root / "events.jsonl", "a", encoding="utf-8") as f:
            f.write(text)

    # -- steps -----------------------------------------------------------------------------

    def on_step(self, rec: StepRecord) -> None:
        stem = f"steps/{rec.index:04d}"
        obs = rec.observation
        action = (
            rec.action.model_dump(mode="json") if hasattr(rec.action, "model_dump") else rec.action
        )
        files: dict[str, str] = {}
        swipe_end = None
        if isinstance(action, Mapping) and action.get("action") == "swipe":
            swipe_end = (action["x2"], action["y2"])
        images: list[tuple[str, bytes, tuple[int, int] | None]] = []
        if rec.before_png is not None:
            images.append((f"{stem}-before.png", rec.before_png, rec.touch))
            files["before"] = f"{stem}-before.png"
        if obs.screenshot_png is not None:
            touch = rec.touch if rec.before_png is None else None
            images.append((f"{stem}-after.png", obs.screenshot_png, touch))
            files["after"] = f"{stem}-after.png"
        if rec.ui_tree_xml is not None:
            self.text(f"{stem}-ui.xml", rec.ui_tree_xml)
            files["ui_tree"] = f"{stem}-ui.xml"
        if obs.exit_code is not None and isinstance(action, Mapping):
            self._transcript(obs.device or "unknown", action.get("command", ""), obs)
        terminal = None
        if isinstance(action, Mapping) and action.get("action") in TERMINAL_ACTIONS:
            role = str(action.get("device"))
            cast = self._casts.get(role)
            if cast is not None:
                start = self._cast_at.get(role, 0.0)
                end = self._cast_at[role] = cast.mark(f"step {rec.index}")
                terminal = {"cast": f"terminal/{role}.cast", "from": start, "to": end}
        line = {
            "step": rec.index,
            "time": datetime.fromtimestamp(rec.started, UTC).isoformat(),
            "device": obs.device or (action.get("device") if isinstance(action, Mapping) else None),
            "action": action,
            "result": obs.for_model(),
            "touch": list(rec.touch) if rec.touch else None,
            "files": files,
            "terminal": terminal,
            "durations": {"step_s": round(rec.duration_s, 4)},
            "agent_message": rec.agent_message,
            "usage": dict(rec.usage) if rec.usage else None,
        }
        if rec.beat is not None:  # a heartbeat episode: which beat, and where each one opens
            line["beat"] = rec.beat
            if rec.beat_start is not None:
                line["beat_start"] = dict(rec.beat_start)
        text = json.dumps(self.redactor.data(line), ensure_ascii=False, default=str) + "\n"
        self._later(images, swipe_end, text)

    def _later(
        self,
        images: list[tuple[str, bytes, tuple[int, int] | None]],
        end: tuple[int, int] | None,
        line: str,
    ) -> None:
        """Write a step's screenshots (the touch drawn on them), then its trajectory line,
        off the agent's step: drawing means decoding and re-encoding a PNG, tens of
        milliseconds the agent need not wait for (the report's thumbnails are made when the
        report is written). One worker keeps the steps in order, and a line is written only
        after its images, so a crash still leaves a consistent record. :meth:`close` waits
        for all of it and names anything that was not written."""

        def write() -> None:
            for name, png, touch in images:
                data = draw_touch(png, touch, end) if touch is not None else png
                _atomic_write(self.root / name, data)
            self._trajectory.write(line)
            self._trajectory.flush()

        self._pending.append(self._images.submit(write))
        if len(self._pending) > 64:  # keep the list short; errors surface here or at close
            for f in [f for f in self._pending if f.done()]:
                f.result()
                self._pending.remove(f)

    def drain(self) -> None:
        """Wait until every screenshot of the steps so far is on disk (re-raises a failure)."""
        pending, self._pending = self._pending, []
        for f in pending:
            f.result()

    def _transcript(self, role: str, command: str, obs: Any) -> None:
        path = self.root / "transcripts" / f"{role}.log"
        path.parent.mkdir(exist_ok=True)
        chunk = f"$ {command}\n{obs.stdout or ''}"
        if obs.stderr:
            chunk += f"[stderr]\n{obs.stderr}"
        chunk += f"[exit {obs.exit_code}]\n"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(self.redactor.text(chunk))
