"""The person the agent may ask: scripted answers first, then a model (if configured),
else the task's default reply.

The model sees only the persona, the task's facts and its scripted answers, and is
told to reply with the default when those do not settle the question — it plays
the person, it does not know the world. It goes through the same OpenAI-compatible
endpoint and key as the built-in agent (``[agent]``), with its own model name
(``[user] model``). An unreachable model is the rig's problem (the client raises,
the runner records ``infra_error``); an empty reply falls back to the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from rig.errors import RigError
from tasks.user import UserSpec

PROMPT = """You are {persona}. Your personal assistant (an AI) is asking you a question.
Answer as this person, briefly (one or two sentences), in the first person.
You know only these facts:
{facts}
If they do not settle the question, reply exactly: {default}
Never invent names, numbers, times or places that are not in the facts."""


@dataclass(frozen=True)
class Reply:
    text: str
    source: str  # "script" | "model" | "default"


class SimulatedUser:
    """Answers ``ask_user`` questions for one episode."""

    def __init__(self, spec: UserSpec, config: Any = None, client: Any = None) -> None:
        self.spec = spec
        user_cfg = getattr(config, "user", None)
        self.model: str | None = getattr(user_cfg, "model", None)
        self.temperature = getattr(user_cfg, "temperature", 0.0)
        self.max_tokens = getattr(user_cfg, "max_tokens", 200)
        self._client = client
        self._config = config

    def _chat(self) -> Any:
        if self._client is None:
            from openai import OpenAI

            agent_cfg = getattr(self._config, "agent", None)
            key_env = getattr(agent_cfg, "api_key_env", "OPENAI_API_KEY")
            api_key = os.environ.get(key_env)
            if not api_key:
                raise RigError(f"the simulated user's model needs an API key in ${key_env}")
            base_url = getattr(agent_cfg, "base_url", None) or os.environ.get("OPENAI_BASE_URL")
            self._client = OpenAI(
                base_url=base_url,
                api_key=api_key,
                max_retries=getattr(agent_cfg, "max_retries", 5),
                timeout=getattr(agent_cfg, "request_timeout_s", 120.0),
            )
        return self._client

    def system_prompt(self) -> str:
        facts = "\n".join(f"- {f}" for f in self.spec.facts) or "- (nothing beyond who you are)"
        return PROMPT.format(persona=self.spec.persona, facts=facts, default=self.spec.default)

    def answer(self, question: str) -> Reply:
        scripted = self.spec.scripted(question)
        if scripted is not None:
            return Reply(scripted, "script")
        if not self.model:
            return Reply(self.spec.default, "default")
        response = self._chat().chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": self.system_prompt()},
                {"role": "user", "content": question},
            ],
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )
        text = (response.choices[0].message.content or "").strip()
        return Reply(text, "model") if text else Reply(self.spec.default, "default")
