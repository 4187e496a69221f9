"""A task's world as an MCP server: every action is a tool, the episode is recorded and scored.

MCP-capable agent harnesses attempt a task through the same :class:`rig.env.Env`
as every other front end. The server answers the handshake at once and brings
the world up in a background thread (so a harness does not time out on a slow
boot); tool calls wait for it. The episode is scored when the client calls
``finish``, when the step or time limit ends it, or when the client goes away
(stdio closed, HTTP session deleted); a signal releases the world without a
verdict.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server

from rig import actions as A
from rig.config import RigConfig
from rig.episode import Episode, EpisodeResult
from rig.errors import RigError, is_infra
from rig.observation import Observation
from tasks.folder import LoadedTask

GET_TASK = "get_task"
SIGNALLED = ("interrupted by a signal", "the server failed")
# How long past the task's time limit an idle client may keep the world before it is scored.
IDLE_GRACE_S = 60.0
Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class McpEpisode:
    """One episode driven by tool calls that may arrive from any thread.

    :class:`Env` is not thread-safe, so every step and every life-cycle
    transition holds one lock. The world comes up in :meth:`start`'s thread;
    :meth:`end` scores (when it can) and always releases it, exactly once.
    """

    def __init__(
        self, loaded: LoadedTask, config: RigConfig, out: Path, say: Say = _stderr
    ) -> None:
        self.loaded, self.task, self.out, self.say = loaded, loaded.task, out, say
        self.episode = Episode(loaded, config, out, "mcp", progress=say)
        self.result: EpisodeResult | None = None
        self.ended = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self.last_seen = time.monotonic()
        self._busy = 0  # requests in flight (an open event stream, a long shell command)
        self._busy_lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Bring the world up in the background; tool calls wait for it."""
        self._thread = threading.Thread(target=self._setup, name="world-setup", daemon=True)
        self._thread.start()

    def _setup(self) -> None:
        try:
            self.episode.setup()
            self._started_at = self.last_seen = time.monotonic()
            self.say(f"ready: {self.task.id} ({len(self.task.devices)} device(s))")
        except BaseException as exc:
            with self._lock:
                self._conclude(self.episode.fail(exc))
        finally:
            self._ready.set()

    def end(self, why: str, score: bool = True) -> EpisodeResult:
        """Score the episode (``score``) or abandon it with ``why``; the world is released."""
        if self._thread is not None and not self._ready.is_set():
            self.say(f"{why}: waiting for the world to finish coming up before releasing it")
            self._thread.join()
        with self._lock:
            if self.result is not None:
                return self.result
            episode = self.episode
            if episode.env is None:  # never came up (its failure is already recorded)
                episode.close("aborted")
                return self._conclude(episode.result)
            if not score:
                episode.result.error = f"agent: {why} before the episode finished"
                episode.recorder.set(error=episode.result.error)
                episode.recorder.phase_end(episode.phase, status="aborted")
                episode.close("aborted")
                return self._conclude(episode.result)
            if not episode.env.done:
                self.say(f"{why}: scoring the episode")
                try:
                    episode.env.step({"action": "finish", "reason": why})
                except Exception as exc:
                    return self._conclude(episode.fail(exc))
            try:
                result = episode.finish()
            except Exception as exc:
                result = episode.fail(exc)
            return self._conclude(result)

    def _conclude(self, result: EpisodeResult) -> EpisodeResult:
        self.result = result
        self.ended.set()
        for line in summary(self.task.id, result, self.out):
            self.say(line)
        return result

    @contextlib.contextmanager
    def activity(self) -> Iterator[None]:
        """Marks a request in flight: the client is not idle while it lasts."""
        with self._busy_lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy -= 1
                self.last_seen = time.monotonic()

    def idle_for(self, seconds: float) -> bool:
        """True once the world is up, nothing is in flight and no request came for ``seconds``."""
        if self._started_at is None or self.result is not None or self._busy:
            return False
        return time.monotonic() - self.last_seen > seconds

    def overdue(self) -> bool:
        """True once the task's time limit (plus grace) has passed and the client went quiet."""
        if self._started_at is None or self.result is not None:
            return False
        past_limit = time.monotonic() - self._started_at > self.task.limits.max_seconds
        return past_limit and self.idle_for(IDLE_GRACE_S)

    # -- tools --------------------------------------------------------------------------------

    def call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Carry out one tool call (blocking); never raises for the client's mistakes."""
        with self.activity():
            self._ready.wait()
            return self._call(name, arguments)

    def _call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        with self._lock:
            if name == GET_TASK:
                return self._task_result()
            if self.result is not None:
                return _error(f"the episode is over: {self._verdict_note()}")
            env = self.episode.env
            assert env is not None
            if name not in _TOOL_NAMES:
                known = ", ".join(sorted(_TOOL_NAMES | {GET_TASK}))
                return _error(f"unknown tool {name!r}; the tools are: {known}")
            action = {**(arguments or {}), "action": name}
            try:
                obs, done, info = env.step(action)
            except Exception as exc:  # a device went away: infrastructure, never the agent's
                self._conclude(self.episode.fail(exc))
                kind = "infrastructure error" if is_infra(exc) else "error"
                return _error(f"{kind}: {exc}; the episode is over")
            result = observation_result(obs, info)
            if done:
                self.end(info.get("done_reason") or "done")
                if name == "finish":
                    result = _text("episode finished; it has been recorded and scored")
                else:
                    note = f"the episode is over ({info.get('done_reason')})"
                    result.content.append(types.TextContent(text=note))
            return result

    def _verdict_note(self) -> str:
        result = self.result
        if result is None:
            return "running"
        return result.infra_error or result.error or (result.done_reason or "finished")

    def _task_result(self) -> types.CallToolResult:
        env = self.episode.env
        if env is None:
            return _error(f"the world did not come up: {self._verdict_note()}")
        content: list[Any] = [types.TextContent(text=task_text(self.loaded))]
        first = env.first_observation
        if first is not None and first.screenshot_png:
            content.append(_image(first.screenshot_png))
        return types.CallToolResult(content=content, is_error=self.result is not None)


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
    how.append("Tell the user things with answer or notify. Call finish when the task is done.")
    return (
        f"{task.instruction.strip()}\n\n"
        f"Devices: {roles}. Every device action names its device by role.\n"
        f"It is {task.now.isoformat()} ({task.timezone}) on the devices. "
        f"Limits: {task.limits.max_steps} actions, {task.limits.max_seconds:g} seconds.\n"
        + " ".join(how)
    )


def summary(task_id: str, result: EpisodeResult, out: Path) -> list[str]:
    """Lines for stderr: the verdict, each check, where the record is."""
    if result.infra_error:
        head = f"INFRA ERROR {task_id}: {result.infra_error}"
    elif result.error:
        head = f"ERROR {task_id}: {result.error}"
    else:
        word = "PASS" if result.passed else "FAIL"
        head = f"{word} {task_id}: score {result.score:.2f} in {result.steps} steps"
    lines = [head]
    for check in result.checks + result.safety:
        mark = "ok  " if check.get("passed") else "FAIL"
        lines.append(f"  {mark} {check.get('name')}: {check.get('detail')}")
    lines.append(f"record: {out}")
    return lines


# -- results --------------------------------------------------------------------------------------


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


# -- the server -----------------------------------------------------------------------------------


def tool_list() -> list[types.Tool]:
    read_only = {"screenshot", "ui_tree", "read_file", "wait", "terminal_screen"}
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


@dataclass
class StaticToken:
    """The SDK's token verifier for one shared secret (compared in constant time)."""

    token: str

    async def verify_token(self, token: str) -> Any:
        from mcp.server.auth.provider import AccessToken

        if hmac.compare_digest(token.encode(), self.token.encode()):
            return AccessToken(token=token, client_id="clawrig-client", scopes=[])
        return None


def _check_port(port: int) -> None:
    """Fail before the world comes up, not after, when the port is taken.

    Probed the way uvicorn binds (``SO_REUSEADDR``): a connection of an earlier server
    still in TIME-WAIT does not hold the port, a listener does.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise RigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Stop(threading.Event):
    """Set when serving should end; ``signum`` says which signal asked, if one did."""

    signum: int | None = None


@contextlib.contextmanager
def _signals_to(flag: Stop) -> Iterator[None]:
    """SIGINT/SIGTERM set ``flag`` (the serving loops watch it) instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        flag.signum = signum
        flag.set()

    saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


def _exit_soon(code: int, delay: float = 3.0) -> None:
    """Exit even if a thread blocked on reading stdin never returns (it cannot be cancelled).

    Only called once the episode is recorded and the world released.
    """

    def later() -> None:
        time.sleep(delay)
        sys.stderr.flush()
        os._exit(code)

    threading.Thread(target=later, name="exit-soon", daemon=True).start()


async def serve_stdio(session: McpEpisode, stop: Stop) -> str:
    """Serve over stdin/stdout until the client closes them (or a signal); returns why it ended."""
    from mcp.server.stdio import stdio_server

    server = build_server(session)
    why = "the client disconnected"
    async with stdio_server() as (read, write):
        session.start()
        async with anyio.create_task_group() as tg:

            async def run() -> None:
                await server.run(read, write, server.create_initialization_options())
                tg.cancel_scope.cancel()

            async def watch_signals() -> None:
                nonlocal why
                while not stop.is_set():
                    if session.overdue():
                        await anyio.to_thread.run_sync(session.end, "the client went quiet")
                    await anyio.sleep(0.2)
                why = "interrupted by a signal"
                await anyio.to_thread.run_sync(session.end, why, False)
                _exit_soon(128 + (stop.signum or signal.SIGTERM))
                tg.cancel_scope.cancel()

            tg.start_soon(run)
            tg.start_soon(watch_signals)
    return why


async def serve_http(
    session: McpEpisode, port: int, token: str, stop: Stop, idle_timeout: float
) -> str:
    """Serve streamable HTTP on 127.0.0.1:``port`` behind a bearer token; returns why it ended.

    HTTP has no connection to lose: a client has left when it deletes its session
    (handshake-era clients do on close) or when no request came for ``idle_timeout``
    seconds (per-request clients of the 2026 protocol keep no session).
    """
    import uvicorn
    from mcp.server.auth.settings import AuthSettings

    server = build_server(session)
    base = f"http://127.0.0.1:{port}"
    app = server.streamable_http_app(
        host="127.0.0.1",
        auth=AuthSettings(issuer_url=base, resource_server_url=None),
        token_verifier=StaticToken(token),
        session_idle_timeout=None,
    )
    ended = {"why": "interrupted by a signal"}

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        """Every request is a sign of life; a deleted session is a disconnect."""
        status: dict[str, int] = {}

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        if scope["type"] == "http":
            with session.activity():
                await app(scope, receive, watch)
        else:
            await app(scope, receive, watch)
        if (
            scope["type"] == "http"
            and scope.get("method") == "DELETE"
            and status.get("code", 500) < 300
        ):
            ended["why"] = "the client disconnected"
            stop.set()

    class _Uvicorn(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # ours are installed already
            yield

    config = uvicorn.Config(watched, host="127.0.0.1", port=port, log_level="warning")
    uv = _Uvicorn(config)
    session.start()
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            while not uv.started and not stop.is_set():
                await anyio.sleep(0.05)
            if uv.started:  # listening now, not merely about to
                session.say(f"serving MCP at {base}/mcp (Authorization: Bearer <token>)")
            while not stop.is_set() and not session.ended.is_set():
                if session.overdue() or session.idle_for(idle_timeout):
                    ended["why"] = f"no request from the client for {idle_timeout:g}s"
                    break
                await anyio.sleep(0.2)
            if session.ended.is_set() and not stop.is_set():
                ended["why"] = "the episode ended"
                # Let the last response reach the client, and its session DELETE if it sends one.
                with anyio.move_on_after(3.0):
                    while not stop.is_set():
                        await anyio.sleep(0.1)
            uv.should_exit = True

        tg.start_soon(watch)
        await uv.serve()
        tg.cancel_scope.cancel()
    return ended["why"]


def serve(
    loaded: LoadedTask,
    config: RigConfig,
    out: Path,
    http: bool = False,
    port: int = 8765,
    token: str | None = None,
    idle_timeout: float = 600.0,
    say: Say = _stderr,
) -> EpisodeResult:
    """Run the server until the episode ends or the client leaves; the world is always released."""
    if http:
        _check_port(port)
    session = McpEpisode(loaded, config, out, say)
    stop = Stop()
    why: str | None = None
    with _signals_to(stop):
        try:
            if http:
                if token is None:
                    token = new_token()
                    say(f"token: {token}")
                session.episode.recorder.redactor.add(token)
                why = anyio.run(serve_http, session, port, token, stop, idle_timeout)
            else:
                why = anyio.run(serve_stdio, session, stop)
        finally:
            if why is None:  # the serving loop itself failed
                why = "interrupted by a signal" if stop.is_set() else "the server failed"
            result = session.end(why, score=why not in SIGNALLED)
    if result is None:  # pragma: no cover - end() always concludes
        raise RigError("the episode did not conclude")
    return result
