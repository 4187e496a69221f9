"""The deterministic event-stream generator: persona + settings + now -> events.

Same persona, settings and ``now`` give the same events, and therefore the same
bytes once written (:mod:`tasks.stream`). The generator never reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tasks.events import EventBase, sort_key
from tasks.generator.life import Life
from tasks.persona import Persona


class GeneratorSettings(BaseModel):
    """Knobs: ``density`` scales everyday activity, ``noise`` scales newsletters, spam
    and near-duplicates, ``conflicts`` is how many contradicting signals to plant."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=92, ge=1, le=3660)
    seed: int = 0
    density: float = Field(default=1.0, ge=0.0, le=10.0)
    noise: float = Field(default=1.0, ge=0.0, le=10.0)
    conflicts: int = Field(default=4, ge=0, le=100)


def generate(
    persona: Persona,
    settings: GeneratorSettings,
    now: datetime,
    phone: str | None = "phone",
    laptop: str | None = "laptop",
    progress: Callable[[str, int, int], None] | None = None,
    services: tuple[str, ...] | None = None,
) -> list[EventBase]:
    """The persona's last ``settings.days`` days before ``now``, time-ordered, with ids.

    ``phone``/``laptop`` are the task's role names for the Android and Linux
    device; ``None`` leaves out what only that device could hold. ``progress`` is
    called as ``(step name, step index, step count)`` before each part of life.
    ``services`` are the task's declared ones: what only an undeclared service could
    hold (shop orders, parcels) is left out; ``None`` keeps everything.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a UTC offset")
    life = Life(
        persona=persona,
        seed=settings.seed,
        now=now,
        days=settings.days,
        phone=phone,
        laptop=laptop,
        services=services,
        density=settings.density,
        noise=settings.noise,
        conflicts=settings.conflicts,
    )
    events = life.run(progress)
    # Stable sort on time only: equal times keep generation order, which is itself seeded.
    events.sort(key=lambda e: e.t)
    width = max(5, len(str(len(events))))
    return [e.model_copy(update={"id": f"g{i:0{width}d}"}) for i, e in enumerate(events, 1)]


def _words_of(event: EventBase) -> str:
    return " ".join(
        str(getattr(event, f)) for f in event.text_fields if getattr(event, f, None) is not None
    )


def _counterpart(event: EventBase) -> str | None:
    """Who an SMS is from or to, comparable across spellings of one number."""
    import re

    who = getattr(event, "address", None)
    if not isinstance(who, str) or not who.strip():
        return None
    digits = re.sub(r"\D", "", who)
    return digits[-9:] if len(digits) >= 6 else who.strip().casefold()


def _names(told: str, subject: str) -> bool:
    """``told`` names ``subject`` as a word (or, in scripts without spaces, anywhere)."""
    import re

    subject = subject.lower()
    if re.search(r"[\u3040-\u30ff\u3400-\u9fff]", subject):  # Japanese has no word gaps
        return subject in told
    return re.search(rf"(?<!\w){re.escape(subject)}(?!\w)", told) is not None


def without_contradictions(generated: list[EventBase], plot: list[EventBase]) -> list[EventBase]:
    """``generated`` minus the planted conflicts about a subject the plot speaks of.

    A planted conflict (a rent change by SMS, a meeting moved by mail …) carries
    ``about:SUBJECT`` tags (the payee, the bill's category also in the persona's language,
    the meeting, the item); when any plot event's text names a subject as a word, or a
    plot SMS is from (or to) the number one of the conflict's SMS came from (the
    landlord's own), every event of that conflict is left out, so the
    generator never contradicts the task.
    """
    told = "\n".join(_words_of(e) for e in plot).lower()
    voices = {who for e in plot if (who := _counterpart(e)) is not None}
    subjects: set[str] = set()
    for e in generated:
        if "conflict" not in e.tags:
            continue
        about = {tag for tag in e.tags if tag.startswith("about:")}
        if _counterpart(e) in voices or any(_names(told, tag[6:]) for tag in about):
            subjects |= about
    if not subjects:
        return generated
    return [e for e in generated if not subjects.intersection(e.tags)]


__all__ = ["GeneratorSettings", "generate", "sort_key", "without_contradictions"]
