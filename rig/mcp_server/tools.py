"""The MCP face of a task: one tool per action plus ``get_task``, results as MCP content."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server

from rig import actions as A
from rig.observation import Observation
from tasks.folder import LoadedTask

if TYPE_CHECKING:
    from rig.mcp_server.session import McpEpisode


GET_TASK = "get_task"


_TOOL_NAMES = frozenset(spec["name"] for spec in A.tool_specs())


def task_text(loaded: LoadedTask) -> str:
    """The instruction with what a harness needs around it: devices, limits, how to end."""
    task = loaded.task
    roles = ", ".join(f"{r} ({k})" for r, k in task.devices.items())
    kinds = set(task.devices.values())
    how = []
    if "android" in kinds:
        how.append(
            "Android: look with screenshot or ui_tree; act with tap (x/y, or an element id "
            "from the last UI tree), type, key, swipe, long_press, launch."
        )
    if "linux" in kinds:
        how.append(
            "Linux: shell, read_file, write_file; terminal_keys and terminal_screen for "
            "a real terminal (interactive programs: vim, less, top, sudo's password prompt)."
        )
    how.append(
        "Tell the user things with answer or notify; ask_user asks them a question only "
        "they can settle. Call finish when the task is done."
    )
    beats = task.heartbeats
    if beats is not None:
        count = len(beats.offsets())
        how.append(
            f"This is a stretch of time: you are woken {count} times (a heartbeat every "
            f"{beats.every}, until {beats.until}). At each heartbeat look around and act; "
            "call finish to sleep until the next one — finish's result is the next "
            "heartbeat's prompt and world time. Finish at the last heartbeat ends the task."
        )
    return (
        f"{task.instruction.strip()}\n\n"
        f"Devices: {roles}. Every device action names its device by role.\n"
        f"It is {task.now.isoformat()} ({task.timezone}) on the devices. "
        f"Limits: {task.limits.max_steps} actions, {task.limits.max_seconds:g} seconds.\n"
        + " ".join(how)
    )


def _text(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)])


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _image(png: bytes) -> types.ImageContent:
    return types.ImageContent(data=base64.b64encode(png).decode("ascii"), mime_type="image/png")


def observation_result(obs: Observation, info: dict[str, Any]) -> types.CallToolResult:
    """JSON of the observation as text (and structured content), the screen as a PNG image."""
    data = obs.for_model()
    content: list[Any] = [types.TextContent(text=json.dumps(data, ensure_ascii=False))]
    if obs.screenshot_png:
        content.append(_image(obs.screenshot_png))
    return types.CallToolResult(
        content=content,
        structured_content={**data, "steps": info.get("steps")},
        is_error=not obs.ok,
    )


def tool_list() -> list[types.Tool]:
    # `wait` is not read-only: a stepped world's clock moves and live events land.
    read_only = {"screenshot", "ui_tree", "read_file", "terminal_screen"}
    tools = [
        types.Tool(
            name=spec["name"],
            description=spec["description"],
            input_schema=spec["parameters"],
            annotations=types.ToolAnnotations(read_only_hint=spec["name"] in read_only),
        )
        for spec in A.tool_specs()
    ]
    tools.append(
        types.Tool(
            name=GET_TASK,
            description="The task: the user's instruction, the devices, the limits, "
            "and the first screen of the phone.",
            input_schema={"type": "object", "properties": {}, "additionalProperties": False},
            annotations=types.ToolAnnotations(read_only_hint=True),
        )
    )
    return tools


def build_server(session: McpEpisode) -> Server[Any]:
    """The MCP server: the actions as tools, the task as instructions, a tool and a prompt."""
    tools = tool_list()
    instructions = task_text(session.loaded)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await anyio.to_thread.run_sync(session.call, params.name, params.arguments)

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        prompt = types.Prompt(name="task", description="The task to attempt, as a user message.")
        return types.ListPromptsResult(prompts=[prompt])

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != "task":
            raise ValueError(f"unknown prompt {params.name!r}; the one prompt is 'task'")
        message = types.PromptMessage(role="user", content=types.TextContent(text=instructions))
        return types.GetPromptResult(description=session.task.title, messages=[message])

    return Server(
        "clawrig",
        version="1",
        title=f"clawrig: {session.task.title}",
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )
