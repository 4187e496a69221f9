"""The phone's HTTP client for the world's web services (bank, shop, parcels) and chat.

An app calls :func:`call` with the account it keeps (:mod:`emulator.sim.accounts`):
one JSON request through the phone's network (only ``10.0.2.2`` is routed), HTTP
Basic with the account's user and password unless the caller gives its own
``Authorization`` (Matrix's bearer token; ``""`` for none). Whatever the server answers comes back
as ``(status, json)``; a server that cannot be reached, or that answers something
that is not JSON, is a :class:`ServiceUnreachable` for the app to show — never an
exception that stops the phone.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from emulator.sim.net import HTTPConnection

TIMEOUT_S = 15.0


class ServiceUnreachable(Exception):
    """The server could not be reached or did not answer HTTP with JSON."""


def basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def call(
    account: Any,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = TIMEOUT_S,
) -> tuple[int, Any]:
    """One request to ``account``'s server; ``path`` is below its base URL."""
    sent = {"Accept": "application/json", "User-Agent": "clawrig-phone/1.0"}
    sent.update(headers or {})
    if "Authorization" not in sent:
        sent["Authorization"] = basic(account.user, account.password)
    elif not sent["Authorization"]:
        del sent["Authorization"]  # a request that must go without credentials (a login)
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        sent["Content-Type"] = "application/json"
    base = account.path.rstrip("/")
    conn = HTTPConnection(account.host, account.port, timeout=timeout)
    try:
        conn.request(method, base + path, body=data, headers=sent)
        answer = conn.getresponse()
        raw = answer.read()
        status = answer.status
    except OSError as exc:
        raise ServiceUnreachable(f"{account.host}:{account.port}: {exc}") from None
    except Exception as exc:  # a broken answer (http.client's own errors)
        raise ServiceUnreachable(f"{account.host}:{account.port}: {type(exc).__name__}") from None
    finally:
        conn.close()
    if not raw:
        return status, None
    try:
        return status, json.loads(raw)
    except ValueError:
        raise ServiceUnreachable(f"the server answered {status} without JSON") from None


def error_text(status: int, answer: Any) -> str:
    """What the app shows for a refused request: the server's own message when it has one."""
    if isinstance(answer, dict):
        for key in ("error", "message"):
            if isinstance(answer.get(key), str) and answer[key]:
                text = answer[key]
                problems = answer.get("problems")
                if isinstance(problems, list) and problems and isinstance(problems[0], dict):
                    first = problems[0]
                    text += f": {str(first.get('where', '')).removeprefix('body.')} "
                    text += str(first.get("problem", ""))
                left = answer.get("attempts_left")
                return text + (f" ({left} attempts left)" if left is not None else "")
    return f"the server answered {status}"
