"""Serving over streamable HTTP on 127.0.0.1: bearer-token auth, the port check,
a deleted session or a quiet client ends the episode.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio

from rig.errors import RigError
from rig.mcp_server.session import McpEpisode, Stop
from rig.mcp_server.tools import build_server


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
