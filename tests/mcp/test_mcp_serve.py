"""``rig mcp serve`` as a harness meets it: the SDK's own client, a real subprocess, a real phone.

Each test brings up the small add-contact task on the virtual phone (behind a
private adb server), drives it only through MCP tools, and reads the episode
record the server wrote.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from rig.actions import tool_specs
from tests.mcp.conftest import TASK, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ACTIONS = {spec["name"] for spec in tool_specs()}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE_ANSWER = 'Saved "Ada" – it\'s $HOME `id` 100% done\n🦊 张伟 \\n'


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def _element(tree: str, text: str) -> int:
    """Id of the first UI-tree line showing ``text`` (as text or description)."""
    for line in tree.splitlines():
        if f"'{text}'" in line:
            return int(re.match(r"\[(\d+)\]", line).group(1))
    raise AssertionError(f"{text!r} is not on the screen:\n{tree}")


async def _act(client: Client, name: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, _text(result)
    return json.loads(result.content[0].text)


async def _check_tools_and_errors(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == ACTIONS | {"get_task"}
    tap = tools["tap"].input_schema
    assert {"device", "x", "y", "element"} <= set(tap["properties"]) and "action" not in tap
    assert tools["shell"].input_schema["required"] == ["device", "command"]
    assert all(t.description for t in tools.values())
    assert "Ada Lovelace" in (client.instructions or "")

    prompt = await client.get_prompt("task")
    assert "Ada Lovelace" in prompt.messages[0].content.text

    task = await client.call_tool("get_task", {})
    assert "Ada Lovelace" in _text(task) and "phone (android)" in _text(task)
    images = [c for c in task.content if c.type == "image"]
    assert images and base64.b64decode(images[0].data).startswith(PNG_MAGIC)

    bad = {
        ("tap", '{"device": "laptop", "x": 1, "y": 1}'): "laptop",
        ("tap", '{"device": "phone", "x": 5000, "y": 10}'): "off the screen",
        ("key", '{"device": "phone", "key": "hyperspace"}'): "unknown key",
        ("shell", '{"device": "phone", "command": "ls"}'): "not an action for 'phone'",
        ("type", '{"device": "phone"}'): "text",
        ("tap", '{"device": "phone", "element": 3}'): "call ui_tree",  # no tree seen yet
        ("tap", '{"device": "phone", "x": 1}'): "give x and y, or element",
    }
    for (name, args), expected in bad.items():
        result = await client.call_tool(name, json.loads(args))
        assert result.is_error, (name, args)
        assert expected in _text(result), (name, _text(result))
    unknown = await client.call_tool("fly", {"to": "moon"})
    assert unknown.is_error and "unknown tool 'fly'" in _text(unknown)


async def _add_contact(client: Client) -> None:
    """What a careful agent would do: open Contacts, find elements in the UI tree, fill, save."""
    launched = await client.call_tool("launch", {"device": "phone", "app": "com.android.contacts"})
    assert not launched.is_error, _text(launched)
    assert any(c.type == "image" for c in launched.content)  # the screen after the action
    tree = json.loads(launched.content[0].text)["text"]
    obs = await _act(client, "tap", device="phone", element=_element(tree, "Add contact"))
    for label, value in (
        ("First name", "Ada"),
        ("Last name", "Lovelace"),
        ("Phone", "+44 20 7946 0018"),
    ):
        obs = await _act(client, "tap", device="phone", element=_element(obs["text"], label))
        obs = await _act(client, "type", device="phone", text=value)
    obs = await _act(client, "tap", device="phone", element=_element(obs["text"], "Save"))
    shot = await client.call_tool("screenshot", {"device": "phone"})
    png = base64.b64decode(next(c for c in shot.content if c.type == "image").data)
    assert png.startswith(PNG_MAGIC)


def _score(out: Path) -> dict[str, Any]:
    return json.loads((out / "score.json").read_text(encoding="utf-8"))


def _trajectory(out: Path) -> list[dict[str, Any]]:
    lines = (out / "trajectory.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_stdio_client_solves_the_task_and_it_is_scored(server_env, tmp_path):
    out = tmp_path / "episode"
    errlog = tmp_path / "stderr.txt"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rig.cli", "mcp", "serve", str(TASK), "--out", str(out)],
        env=server_env,
        cwd=str(tmp_path),
    )

    async def session() -> None:
        with errlog.open("w") as err:
            async with Client(stdio_client(params, errlog=err), read_timeout_seconds=120) as client:
                await _check_tools_and_errors(client)
                await _add_contact(client)
                said = await client.call_tool("answer", {"text": HOSTILE_ANSWER})
                assert not said.is_error, _text(said)
                done = await client.call_tool("finish", {"reason": "saved"})
                assert not done.is_error and "finished" in _text(done)
                after = await client.call_tool("screenshot", {"device": "phone"})
                assert after.is_error and "over" in _text(after)

    anyio.run(session)
    score = _score(out)
    assert score["passed"] is True, score
    assert score["done_reason"] == "finish"
    messages = json.loads((out / "messages.json").read_text(encoding="utf-8"))
    assert [m["text"] for m in messages] == [HOSTILE_ANSWER]
    steps = _trajectory(out)
    assert any(not s["result"]["ok"] and "off the screen" in s["result"]["error"] for s in steps)
    log = errlog.read_text(encoding="utf-8")
    assert "allocate: phone (android)" in log  # progress went to stderr, not the protocol
    assert "PASS mcp-add-contact" in log


def _start_http(env: dict[str, str], tmp_path: Path, *extra: str) -> tuple[Any, int, Path, Path]:
    port = free_port()
    out = tmp_path / "episode"
    errlog = tmp_path / "stderr.txt"
    args = ["mcp", "serve", str(TASK), "--http", "--port", str(port), "--out", str(out), *extra]
    with errlog.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rig.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            cwd=tmp_path,
        )
    deadline = time.monotonic() + 60
    while "serving MCP at" not in errlog.read_text(encoding="utf-8"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start:\n{errlog.read_text(encoding='utf-8')}")
        time.sleep(0.1)
    return proc, port, out, errlog


def _client(port: int, token: str, mode: str = "auto") -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    transport = streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)
    return Client(transport, read_timeout_seconds=120, mode=mode)


def _refused(port: int, headers: dict[str, str]) -> int:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", **headers}
    response = httpx2.post(f"http://127.0.0.1:{port}/mcp", json=body, headers=headers, timeout=10)
    return response.status_code


def test_http_needs_the_token_and_a_client_solves_the_task(server_env, tmp_path):
    token = "test-token-" + "x7Q" * 8
    proc, port, out, errlog = _start_http(server_env, tmp_path, "--token", token)
    try:
        assert _refused(port, {}) == 401
        assert _refused(port, {"Authorization": "Bearer wrong-token-0123456789"}) == 401

        async def session() -> None:
            async with _client(port, token) as client:
                await _check_tools_and_errors(client)
                await _add_contact(client)
                done = await client.call_tool("finish", {})
                assert not done.is_error, _text(done)

        anyio.run(session)
        assert proc.wait(timeout=30) == 0  # the world is released and the server exits
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _score(out)["passed"] is True
    log = errlog.read_text(encoding="utf-8")
    assert "PASS mcp-add-contact" in log
    assert proc.stdout.read() == b""
    record = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert token not in record


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("legacy", "the client disconnected"),  # a handshake session, DELETEd on close
        ("auto", "no request from the client for 3s"),  # 2026 protocol: no session to delete
    ],
)
def test_http_client_leaving_without_finish_scores_the_episode(server_env, tmp_path, mode, reason):
    proc, port, out, errlog = _start_http(server_env, tmp_path, "--idle-timeout", "3")
    try:
        token = re.search(r"token: (\S+)", errlog.read_text(encoding="utf-8")).group(1)
        assert len(token) >= 24

        async def session() -> None:
            async with _client(port, token, mode) as client:
                await _act(client, "launch", device="phone", app="com.android.contacts")
                # a call longer than the idle timeout is activity, not idleness
                await _act(client, "wait", device="phone", seconds=4.5)
                await _act(client, "ui_tree", device="phone")

        anyio.run(session)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    score = _score(out)
    assert score["passed"] is False and score["error"] is None and score["infra_error"] is None
    assert score["done_reason"] == "finish"
    assert _trajectory(out)[-1]["action"]["reason"] == reason
    assert "FAIL mcp-add-contact" in errlog.read_text(encoding="utf-8")
    record = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert token not in record


@pytest.mark.parametrize(
    ("transport", "signum"), [("http", signal.SIGTERM), ("stdio", signal.SIGINT)]
)
def test_a_signal_releases_the_world_without_a_verdict(server_env, tmp_path, transport, signum):
    if transport == "http":
        proc, _port, out, errlog = _start_http(server_env, tmp_path, "--token", "t" * 20)
    else:  # stdin stays open: the server is blocked reading it when the signal comes
        out, errlog = tmp_path / "episode", tmp_path / "stderr.txt"
        with errlog.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rig.cli", "mcp", "serve", str(TASK), "--out", str(out)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=server_env,
                cwd=tmp_path,
            )
    deadline = time.monotonic() + 90
    while "ready: mcp-add-contact" not in errlog.read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, errlog.read_text(encoding="utf-8")
        assert proc.poll() is None, errlog.read_text(encoding="utf-8")
        time.sleep(0.1)
    phone_pids = _sim_phone_pids(out)
    assert phone_pids, "the virtual phone's process was not found"
    proc.send_signal(signum)
    try:
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code in (0, 128 + signum), errlog.read_text(encoding="utf-8")
    score = _score(out)
    assert score["passed"] is False and "interrupted" in score["error"]
    assert score["phases"]["agent"]["status"] == "aborted"
    for pid in phone_pids:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid), f"virtual phone {pid} still runs"


def _sim_phone_pids(out: Path) -> list[int]:
    """Processes whose command line names this episode's device folder (the virtual phone)."""
    pids = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(out / "devices") in cmdline:
            pids.append(int(proc_dir.name))
    return pids


def _zombie(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True


def test_stdio_client_solves_a_suite_task(server_env, tmp_path):
    """A proactive task of the bundled suite, solved only through MCP tools."""
    task = Path(__file__).parents[2] / "tasks" / "suite" / "school-pickup-moved"
    out = tmp_path / "episode"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rig.cli", "mcp", "serve", str(task), "--out", str(out)],
        env=server_env,
        cwd=str(tmp_path),
    )

    async def session() -> None:
        with (tmp_path / "stderr.txt").open("w") as err:
            async with Client(stdio_client(params, errlog=err), read_timeout_seconds=300) as client:
                task_text = _text(await client.call_tool("get_task", {}))
                assert "heartbeat" in task_text.lower(), task_text
                obs = await _act(
                    client, "launch", device="phone", app="com.google.android.apps.messaging"
                )
                obs = await _act(
                    client, "tap", device="phone", element=_element(obs["text"], "+49 30 2961 7740")
                )
                assert "12:15" in obs["text"]
                obs = await _act(client, "launch", device="phone", app="com.android.calendar")
                assert "Pick up Emil" in obs["text"]
                await _act(
                    client,
                    "notify",
                    text=(
                        "School ends early on Wednesday 18 March: please pick up Emil at 12:15, "
                        "not 16:00 as your calendar says. I changed nothing."
                    ),
                )
                done = await client.call_tool("finish", {"reason": "told the user"})
                assert not done.is_error, _text(done)

    anyio.run(session)
    score = _score(out)
    assert score["passed"] is True, score
