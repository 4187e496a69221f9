"""A harness drives the laptop's terminal through MCP: ``rig mcp serve`` on a suite task that
needs one (IT's interactive VPN script), the SDK's own client, a real VM."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.vm]

TASK = Path(__file__).parents[2] / "tasks" / "suite" / "vpn-enroll-interactive-script"


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


async def _keys(client: Client, *keys: Any, until: str) -> dict[str, Any]:
    result = await client.call_tool(
        "terminal_keys", {"device": "laptop", "keys": list(keys), "until": until, "timeout": 20}
    )
    assert not result.is_error, _text(result)
    obs = json.loads(result.content[0].text)
    assert until in obs["text"], obs["text"]
    return obs


def test_stdio_client_answers_an_interactive_script_in_the_terminal(tmp_path):
    out = tmp_path / "episode"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rig.cli", "mcp", "serve", str(TASK), "--out", str(out)],
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")},  # no user config
        cwd=str(tmp_path),
    )

    async def session() -> None:
        with (tmp_path / "stderr.txt").open("w") as err:
            async with Client(stdio_client(params, errlog=err), read_timeout_seconds=600) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                assert tools["terminal_screen"].annotations.read_only_hint is True
                assert "keys" in tools["terminal_keys"].input_schema["properties"]
                task = _text(await client.call_tool("get_task", {}))
                assert "terminal_keys" in task
                # Without a terminal the script refuses, as it would for a person's cron job.
                shell = await client.call_tool(
                    "shell", {"device": "laptop", "command": "bash ~/Downloads/acme-vpn-enroll.sh"}
                )
                assert "run me in a terminal" in json.loads(shell.content[0].text)["stderr"]
                await _keys(
                    client, {"text": "bash ~/Downloads/acme-vpn-enroll.sh"}, "Enter",
                    until="Employee number",
                )  # fmt: skip
                await _keys(client, "E-20471", "Enter", until="Office [")
                await _keys(client, "Hamburg", "Enter", until="[y/N]")
                obs = await _keys(client, "y", "Enter", until="Welcome to ACME VPN")
                assert 0 <= obs["cursor"][0] < 40 and 0 <= obs["cursor"][1] <= 120
                screen = await client.call_tool("terminal_screen", {"device": "laptop"})
                assert "Enrolled E-20471 (Hamburg)" in _text(screen)
                done = await client.call_tool("finish", {"reason": "enrolled"})
                assert not done.is_error, _text(done)

    anyio.run(session)
    score = json.loads((out / "score.json").read_text(encoding="utf-8"))
    assert score["passed"] is True, score
    steps = [json.loads(x) for x in (out / "trajectory.jsonl").read_text().splitlines()]
    casts = {s["terminal"]["cast"] for s in steps if s.get("terminal")}
    assert casts == {"terminal/laptop.cast"}
    assert "Welcome to ACME VPN" in (out / casts.pop()).read_text(encoding="utf-8")
    assert "ClawrigTerm" in (out / "report.html").read_text(encoding="utf-8")
