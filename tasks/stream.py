"""Event streams on disk: JSONL, one event per line, keys in a fixed order.

The byte form is canonical (compact separators, UTF-8 without escaping,
absent-or-default fields left out, keys in model order), so the same events
always give the same bytes and a stream can be diffed and hashed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from tasks.events import EVENT_ADAPTER, EventBase
from tasks.loader import Problem, ProblemsFound, _message, dotted, error_loc


def dumps_event(event: EventBase) -> str:
    data = event.model_dump(mode="json", exclude_defaults=True)
    # ``kind`` and ``t`` have no defaults; ``id`` is always written once assigned.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def dumps(events: Iterable[EventBase]) -> bytes:
    return "".join(dumps_event(e) + "\n" for e in events).encode("utf-8")


def write_stream(events: Iterable[EventBase], path: Path) -> int:
    """Write atomically (temp file + rename) so a crash never leaves half a stream."""
    data = dumps(events)
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)


def parse_stream(text: str, name: str = "<stream>") -> list[EventBase]:
    """Parse JSONL; every bad line is reported as ``file:line: field: message``."""
    events: list[EventBase] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(name, lineno, "json", exc.msg))
            continue
        try:
            events.append(EVENT_ADAPTER.validate_python(data))
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(Problem(name, lineno, dotted(error_loc(err)), _message(err)))
    if problems:
        raise ProblemsFound(problems)
    return events


def read_stream(path: Path) -> list[EventBase]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemsFound([Problem(str(path), 1, "file", "no such file")]) from None
    return parse_stream(text, str(path))


@dataclass
class StreamStats:
    events: int = 0
    words: int = 0
    first: datetime | None = None
    last: datetime | None = None
    by_kind: Counter[str] = field(default_factory=Counter)
    by_target: Counter[str] = field(default_factory=Counter)
    by_tag: Counter[str] = field(default_factory=Counter)
    words_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def span_days(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return (self.last - self.first).total_seconds() / 86400


def stats(events: Iterable[EventBase]) -> StreamStats:
    out = StreamStats()
    for e in events:
        out.events += 1
        words = e.words()
        out.words += words
        out.words_by_kind[e.kind] += words
        out.by_kind[e.kind] += 1
        out.by_target[e.target] += 1
        out.by_tag.update(t for t in e.tags if t in ("noise", "near-duplicate", "conflict", "plot"))
        out.first = e.t if out.first is None or e.t < out.first else out.first
        out.last = e.t if out.last is None or e.t > out.last else out.last
    return out


__all__ = ["ProblemsFound", "dumps", "parse_stream", "read_stream", "stats", "write_stream"]
