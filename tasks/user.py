"""The person behind the task, as the agent may ask them (``user:`` in ``task.yaml``).

An always-on assistant sometimes cannot finish without asking its person (which
of two Jonases?). The task states what that person knows — ``facts`` — and, for
the questions its author expects, scripted ``answers`` matched by pattern; any
other question gets ``default``. When a user model is configured (``[user]`` in
``rig.toml``), it answers what no script matches, speaking as the persona and
knowing only these facts.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_REPLY = "I don't know."
MAX_QUESTION = 2_000


class ScriptedAnswer(BaseModel):
    """``match``: a regular expression searched in the question (case-insensitive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    match: str = Field(min_length=1)
    say: str = Field(min_length=1)

    @field_validator("match")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    def matches(self, question: str) -> bool:
        return re.search(self.match, question, re.IGNORECASE) is not None


class UserSpec(BaseModel):
    """What the simulated user knows and says."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    persona: str = Field(
        default="the user", min_length=1, description="who answers, e.g. 'Mara, 34, nurse'"
    )
    facts: list[str] = Field(default_factory=list)
    answers: list[ScriptedAnswer] = Field(default_factory=list)
    default: str = Field(default=DEFAULT_REPLY, min_length=1)

    def scripted(self, question: str) -> str | None:
        """The first scripted answer whose pattern the question matches."""
        for item in self.answers:
            if item.matches(question):
                return item.say
        return None
