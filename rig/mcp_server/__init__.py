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

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from rig.config import RigConfig
from rig.episode import EpisodeResult
from rig.errors import RigError
from rig.mcp_server.http_server import StaticToken, _check_port, new_token, serve_http
from rig.mcp_server.session import IDLE_GRACE_S, McpEpisode, Say, Stop, _stderr, summary
from rig.mcp_server.tools import GET_TASK, build_server, observation_result, task_text, tool_list
from tasks.folder import LoadedTask

SIGNALLED = ("interrupted by a signal", "the server failed")


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


__all__ = [
    "GET_TASK",
    "IDLE_GRACE_S",
    "McpEpisode",
    "StaticToken",
    "Stop",
    "build_server",
    "new_token",
    "observation_result",
    "serve",
    "serve_http",
    "serve_stdio",
    "summary",
    "task_text",
    "tool_list",
]
