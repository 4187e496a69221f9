"""An agent behind any OpenAI-compatible chat-completions API, using tool calls.

Each action kind is one tool whose parameters are that action's fields, so
the model's calls validate against the same schema every front end uses.
Screenshots go in as images (downscaled), and only the last few stay in the
context: older ones become a one-line placeholder, so long episodes fit.
Rate limits and server errors are retried with backoff by the client; token
usage is recorded on every step.
"""

from __future__ import annotations

import base64
import io
import json
import os
from typing import Any

from PIL import Image

from rig import actions as A
from rig.env import Env
from rig.errors import ActionInvalid, RigError
from rig.observation import Observation

SYSTEM_PROMPT = """You are a personal assistant agent with access to the user's devices.
Devices: {devices}.
Android devices take tap/long_press/swipe/type/key/launch/screenshot/ui_tree/wait; tap an element
by the id shown in the UI tree, or by pixel coordinates. Linux devices take shell/read_file/
write_file, and terminal_keys/terminal_screen for a real terminal where a program is
interactive (vim, less, top, a sudo password prompt). Tell the user things with answer (a reply
to a request) or notify (something they should know); ask_user asks them a question when only
they can settle it (which of two people they mean). Things may happen while you work (a message
arrives, the calendar changes); wait lets time pass (without seconds, until the next thing is
due). Call finish when the task is done; when you are woken by heartbeats, finish sleeps until
the next one (its result is the next heartbeat). Do only what the task needs."""


def tool_definitions() -> list[dict[str, Any]]:
    """One function tool per action kind, parameters from the action's own schema."""
    return [{"type": "function", "function": spec} for spec in A.tool_specs()]


def _image_part(png: bytes, width: int) -> dict[str, Any]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)))
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    data = base64.b64encode(buf.getvalue()).decode()
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}


def _observation_text(obs: Observation) -> str:
    return json.dumps(obs.for_model(), ensure_ascii=False)


class OpenAIAgent:
    name = "openai"

    def __init__(self, model: str, config: Any = None, client: Any = None) -> None:
        from openai import OpenAI

        agent_cfg = getattr(config, "agent", None)
        self.model = model
        self.temperature = getattr(agent_cfg, "temperature", 0.0)
        self.max_tokens = getattr(agent_cfg, "max_tokens", 1024)
        self.max_images = getattr(agent_cfg, "max_images", 3)
        self.image_width = getattr(agent_cfg, "image_width", 540)
        key_env = getattr(agent_cfg, "api_key_env", "OPENAI_API_KEY")
        base_url = getattr(agent_cfg, "base_url", None) or os.environ.get("OPENAI_BASE_URL")
        api_key = os.environ.get(key_env)
        if client is None and not api_key:
            raise RigError(f"the openai agent needs an API key in ${key_env}")
        self.client = client or OpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=getattr(agent_cfg, "max_retries", 5),
            timeout=getattr(agent_cfg, "request_timeout_s", 120.0),
        )
        self.usage_total = {"prompt_tokens": 0, "completion_tokens": 0}

    # -- context management ------------------------------------------------------------------

    def _trim_images(self, messages: list[dict[str, Any]]) -> None:
        """Keep only the newest ``max_images`` screenshots; older ones become text."""
        seen = 0
        for message in reversed(messages):
            content = message.get("content")
            if not isinstance(content, list):
                continue
            for i, part in enumerate(content):
                if part.get("type") == "image_url":
                    seen += 1
                    if seen > self.max_images:
                        content[i] = {"type": "text", "text": "[older screenshot omitted]"}

    # -- the loop ----------------------------------------------------------------------------

    def run(self, env: Env, instruction: str) -> None:
        first = env.first_observation
        devices = ", ".join(f"{r} ({env.world[r].kind})" for r in env.world)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT.format(devices=devices)},
        ]
        opening: list[dict[str, Any]] = [{"type": "text", "text": f"Task: {instruction}"}]
        beats = getattr(env, "beats", None)
        if beats is not None and beats.current is not None:
            # Later beats come back as finish's tool result; the loop runs until the last.
            opening.append({"type": "text", "text": beats.current.text()})
        if first is not None and first.screenshot_png:
            opening.append({"type": "text", "text": f"Screen of {first.device}:"})
            opening.append(_image_part(first.screenshot_png, self.image_width))
        messages.append({"role": "user", "content": opening})
        tools = tool_definitions()
        idle = 0
        while not env.done:
            self._trim_images(messages)
            response = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                tools=tools,
                tool_choice="auto",
                temperature=self.temperature,
                max_tokens=self.max_tokens,
            )
            choice = response.choices[0].message
            usage = None
            if response.usage is not None:
                usage = {
                    "prompt_tokens": response.usage.prompt_tokens,
                    "completion_tokens": response.usage.completion_tokens,
                }
                for k, v in usage.items():
                    self.usage_total[k] += v or 0
            calls = choice.tool_calls or []
            messages.append(
                {
                    "role": "assistant",
                    "content": choice.content or "",
                    **(
                        {
                            "tool_calls": [
                                {
                                    "id": c.id,
                                    "type": "function",
                                    "function": {
                                        "name": c.function.name,
                                        "arguments": c.function.arguments,
                                    },
                                }
                                for c in calls
                            ]
                        }
                        if calls
                        else {}
                    ),
                }
            )
            if not calls:
                idle += 1
                env.annotate(choice.content, usage)
                if idle >= 3:
                    obs, _, _ = env.step(A.Finish(reason="model stopped calling tools"))
                    if env.done:
                        return
                    idle = 0  # a heartbeat episode: that beat is over, the next one is here
                    messages.append({"role": "user", "content": obs.text or ""})
                    continue
                messages.append(
                    {"role": "user", "content": "Use the tools to act; call finish when done."}
                )
                continue
            idle = 0
            images: list[dict[str, Any]] = []
            for n, call in enumerate(calls):
                env.annotate(choice.content if n == 0 else None, usage if n == 0 else None)
                obs = self._call(env, call.function.name, call.function.arguments)
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": _observation_text(obs)}
                )
                if obs.screenshot_png:
                    images.append({"type": "text", "text": f"Screen of {obs.device} now:"})
                    images.append(_image_part(obs.screenshot_png, self.image_width))
                if env.done:
                    return
            if images:
                messages.append({"role": "user", "content": images})

    def _call(self, env: Env, name: str, arguments: str) -> Observation:
        try:
            args = json.loads(arguments or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments must be a JSON object")
        except ValueError as exc:
            obs, _, _ = env.step({"action": name, "__bad_arguments__": str(exc)})
            return obs
        try:
            action = A.parse_action({**args, "action": name})
        except ActionInvalid:
            action = {**args, "action": name}  # the env turns it into an error observation
        obs, _, _ = env.step(action)
        return obs
