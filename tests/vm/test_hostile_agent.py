"""A hostile agent on a real VM: every action it can send comes back as an observation,
is recorded, and leaves the world usable; only a machine really gone is infrastructure.

One TaskEnv episode (a real QEMU VM) takes the actions in file order; `rig run` replays a
hostile trajectory end to end; a second episode has its VM killed under it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rig.api import TaskEnv
from rig.config import RigConfig
from rig.errors import EpisodeOver, is_infra

TASK = Path(__file__).parents[1] / "episode" / "fixtures" / "laptop-answer"
pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    task_env = TaskEnv(TASK, config=RigConfig(), out=tmp_path_factory.mktemp("hostile") / "ep")
    task_env.reset()
    yield task_env
    task_env.close()


def step(env: TaskEnv, **action):
    action.setdefault("device", "laptop")
    obs, _done, _info = env.step(action)
    return obs


def assert_usable(env: TaskEnv) -> None:
    """The next action works: the agent's shell answers, and so does the rig's own channel."""
    started = time.monotonic()
    obs = step(env, action="shell", command="echo still-here", timeout=60)
    assert obs.ok and obs.stdout == "still-here\n" and obs.exit_code == 0, obs
    assert time.monotonic() - started < 60
    laptop = env.episode.world["laptop"]
    assert laptop.exec("true", timeout=30).exit_code == 0


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ({"action": "read_file", "path": "/tmp"}, "/tmp is a directory"),
        ({"action": "read_file", "path": "/tmp/a\x00b"}, "NUL byte"),
        ({"action": "read_file", "path": "/tmp/" + "a" * 5000}, "Linux allows 4,095"),
        ({"action": "read_file", "path": "/tmp/" + "b" * 300}, "Linux allows 255"),
        ({"action": "read_file", "path": "/tmp/missing"}, "no such file: /tmp/missing"),
        ({"action": "write_file", "path": "/tmp/a\x00b", "content": "x"}, "NUL byte"),
        ({"action": "write_file", "path": "/tmp", "content": "x"}, "/tmp is a directory"),
        (
            {"action": "write_file", "path": "/tmp/no/such/dir/f", "content": "x"},
            "no such directory /tmp/no/such/dir",
        ),
        ({"action": "write_file", "path": "/opt/f", "content": "x"}, "permission denied: /opt/f"),
    ],
)
def test_file_actions_the_guest_refuses_are_observations(env, action, error):
    obs = step(env, **action)
    assert not obs.ok and error in obs.error, obs
    assert obs.action == action["action"] and obs.device == "laptop"
    assert_usable(env)


def test_a_failed_write_leaves_no_temporary_file(env):
    laptop = env.episode.world["laptop"]
    left = laptop.exec("ls -A / /tmp /opt | grep -c '^[.]clawrig-' || true").stdout
    assert left.strip() == "0"


@pytest.mark.parametrize(
    ("command", "code"),
    [("exit", 0), ("exit 5", 5), ("exec bash -c 'exit 7'", 7), ("kill -9 $$", 255)],
)
def test_ending_the_shell_gives_a_new_one(env, command, code):
    obs = step(env, action="shell", command=command)
    assert obs.ok and "the next command starts a new one" in obs.stderr, obs
    assert obs.exit_code == code  # a bare `exit` after a command that succeeded: 0
    assert_usable(env)


def test_what_an_ended_shell_left_running_ends_with_it(env):
    obs = step(env, action="shell", command="sleep 987 & exit 0")
    assert "the next command starts a new one" in obs.stderr, obs
    running = step(env, action="shell", command="ps -eo args").stdout
    assert "sleep 987" not in running, running


@pytest.mark.parametrize(
    ("command", "ends"),
    [("setsid sleep 876 & sleep 100", "timed out"), ("setsid sleep 877 & exit 0", "new one")],
)
def test_a_new_session_does_not_escape_the_shells_end(env, command, ends):
    """``setsid`` leaves the shell's session, not its cgroup: a timeout or the shell's end
    still takes it."""
    obs = step(env, action="shell", command=command, timeout=4)
    assert ends in obs.stderr, obs
    running = step(env, action="shell", command="ps -eo args").stdout
    assert "sleep 87" not in running, running


def test_the_status_a_command_starts_with_is_the_previous_ones(env):
    step(env, action="shell", command="false")
    assert step(env, action="shell", command="echo $?").stdout == "1\n"
    assert step(env, action="shell", command="echo $?").stdout == "0\n"
    obs = step(env, action="shell", command="set -e; false")  # the agent's own shell ends
    assert obs.exit_code == 1 and "starts a new one" in obs.stderr
    assert_usable(env)


def test_killing_every_process_of_the_user_reconnects(env):
    # The user's own sshd process dies too: the connection drops, the machine is fine.
    obs = step(env, action="shell", command="kill -9 -1")
    assert obs.ok and obs.exit_code == 255 and "reconnected" in obs.stderr, obs
    assert_usable(env)
    assert env.episode.world["laptop"].session.reconnects >= 1


def test_root_killing_every_sshd_reconnects(env):
    # With the rig's passwordless sudo the agent is root: the listener dies too, and init
    # starts it again, so the rig reconnects instead of calling the machine gone.
    obs = step(env, action="shell", command="sudo -n bash -c 'pkill -9 -x sshd'")
    assert obs.ok, obs
    assert_usable(env)
    listeners = step(env, action="shell", command="pgrep -c -x sshd")
    assert listeners.ok and int(listeners.stdout) >= 1, listeners


def test_the_terminal_has_the_shells_process_limit(env):
    keys = {"action": "terminal_keys", "device": "laptop", "timeout": 10}
    obs, _, _ = env.step({**keys, "keys": ["echo lim-$(ulimit -u)-$(ulimit -H -u)", "Enter"]})
    assert obs.ok and "lim-256-256" in obs.text, obs


def test_the_agents_mbsync_waits_for_the_sync_crons_lock(env):
    # Cron's sync holds ~/.cache/mbsync.lock; the agent's `mbsync` waits for it (it would
    # otherwise fail on mbsync's own state lock or race the cron's run).
    command = (
        "mkdir -p ~/.cache; rm -f /tmp/released; "
        "(flock ~/.cache/mbsync.lock sh -c 'sleep 2; touch /tmp/released' &); sleep 0.5; "
        "mbsync --version >/dev/null && cat /tmp/released && echo after-release"
    )
    obs = step(env, action="shell", command=command, timeout=30)
    assert obs.ok and obs.exit_code == 0 and obs.stdout == "after-release\n", obs


def test_killing_every_process_from_the_terminal_reconnects(env):
    session = env.episode.world["laptop"].session
    before = session.reconnects
    keys = {"action": "terminal_keys", "device": "laptop", "timeout": 5}
    obs, _, _ = env.step({**keys, "keys": ["kill -9 -1", "Enter"]})
    assert obs.action == "terminal_keys"  # an observation, whatever the terminal saw
    for _ in range(2):  # the first keys may only start a fresh terminal (and say so)
        obs, _, _ = env.step({**keys, "keys": ["echo back-$((6*7))", "Enter"], "until": "back-42"})
        if obs.ok:
            break
        assert "fresh terminal" in obs.error, obs
    assert obs.ok and "back-42" in obs.text, obs
    assert_usable(env)
    assert session.reconnects > before


def test_the_agent_cannot_raise_its_process_limit(env):
    obs = step(env, action="shell", command="ulimit -u; ulimit -u 100000")
    assert obs.stdout.splitlines()[0] == "256" and obs.exit_code != 0, obs


def test_a_foreground_fork_bomb_times_out_and_is_cleaned_up(env):
    obs = step(env, action="shell", command=":(){ :|: & :; }; :", timeout=8)
    # The bomb runs in the agent's shell itself: either the timeout kills it, or bash
    # gives up forking and exits first (under load); both are the agent's observation.
    assert obs.ok, obs
    timed_out = obs.exit_code == 124 and "timed out" in obs.stderr
    assert timed_out or "the next command starts a new one" in obs.stderr, obs
    assert_usable(env)
    # Nothing of the bomb is left running (a VM at rest runs a few dozen processes).
    left = step(env, action="shell", command="ps -e -o stat= | grep -vc '^Z'").stdout
    assert int(left) < 100, left


def test_big_output_and_big_files_say_they_were_cut(env):
    obs = step(env, action="shell", command="seq 1 400000")
    assert obs.stdout.endswith("\n[output cut at 65,536 bytes]") and obs.exit_code == 0
    assert obs.stdout.startswith("1\n2\n3\n")
    step(env, action="shell", command="head -c 300000000 /dev/zero | tr '\\0' y > /tmp/big")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.monotonic()
    obs = step(env, action="read_file", path="/tmp/big")
    took = time.monotonic() - started
    rss_grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert obs.ok and obs.text.endswith("\n[file cut at 65,536 bytes]"), obs.text[-80:]
    assert obs.text.startswith("y" * 65536)
    # The guest sent at most the cap (+1 byte): the host never held the 300 MB.
    assert rss_grew_mb < 100, (rss_grew_mb, took)
    # A small file is not marked.
    step(env, action="write_file", path="/tmp/small.txt", content="héllo\n")
    assert step(env, action="read_file", path="/tmp/small.txt").text == "héllo\n"


def test_a_background_fork_bomb_does_not_starve_the_machine(env):
    obs = step(env, action="shell", command=":(){ :|:& };:", timeout=10)
    assert obs.ok, obs
    # The agent's own shell shares the bomb's process limit: slow, but it answers; the
    # rig's channels (scoring) are outside that limit.
    laptop = env.episode.world["laptop"]
    started = time.monotonic()
    assert laptop.exec("echo scoring-works", timeout=60).stdout == "scoring-works\n"
    assert time.monotonic() - started < 30
    obs = step(env, action="write_file", path="/home/user/answer.txt", content="done\n")
    assert obs.ok, obs


def test_the_episode_ran_and_every_action_is_recorded(env):
    result = env.close()
    assert result is not None and result.infra_error is None and result.error is None
    assert result.passed, result.checks  # the answer was written under the bomb
    lines = [json.loads(x) for x in (env.out / "trajectory.jsonl").read_text().splitlines()]
    errors = [x["result"].get("error", "") for x in lines]
    assert any("NUL byte" in e for e in errors)
    assert any("permission denied: /opt/f" in e for e in errors)
    assert any("no such directory" in e for e in errors)
    cut = [x for x in lines if x["action"].get("path") == "/tmp/big"]
    assert cut and cut[0]["result"]["text"].endswith("[file cut at 65,536 bytes]")
    transcript = (env.out / "transcripts" / "laptop.log").read_text()
    assert "[output cut at 65,536 bytes]" in transcript


# -- `rig run` with a hostile replay -----------------------------------------------------

HOSTILE = [
    {"action": "read_file", "device": "laptop", "path": "/tmp"},
    {"action": "read_file", "device": "laptop", "path": "/tmp/x\u0000y"},
    {"action": "read_file", "device": "laptop", "path": "/tmp/" + "a" * 5000},
    {"action": "write_file", "device": "laptop", "path": "/tmp/x\u0000y", "content": "x"},
    {"action": "write_file", "device": "laptop", "path": "/tmp/none/f", "content": "x"},
    {"action": "write_file", "device": "laptop", "path": "/opt/f", "content": "x"},
    {"action": "shell", "device": "laptop", "command": "exit"},
    {"action": "shell", "device": "laptop", "command": "exec bash -c 'exit 7'"},
    {"action": "shell", "device": "laptop", "command": ":(){ :|: & :; }; :", "timeout": 5},
    {"action": "tap", "device": "laptop", "x": True, "y": False},
    {
        "action": "write_file",
        "device": "laptop",
        "path": "/home/user/answer.txt",
        "content": "done",
    },
    {"action": "finish"},
]


def test_rig_run_replays_a_hostile_trajectory_as_the_agents_attempt(tmp_path):
    traj = tmp_path / "hostile.jsonl"
    traj.write_text("".join(json.dumps({"action": a}) + "\n" for a in HOSTILE))
    out = tmp_path / "ep"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "run", str(TASK), "--agent", f"replay:{traj}",
         "--linux", "qemu", "--out", str(out)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PASS laptop-answer" in res.stderr and "Traceback" not in res.stderr
    score = json.loads((out / "score.json").read_text())
    assert score["passed"] and score["infra_error"] is None and score["error"] is None
    lines = [json.loads(x) for x in (out / "trajectory.jsonl").read_text().splitlines()]
    # Every action, in order, none lost (parsed ones are recorded with their defaults).
    assert len(lines) == len(HOSTILE)
    recorded = [{k: x["action"].get(k) for k in a} for x, a in zip(lines, HOSTILE, strict=True)]
    assert recorded == HOSTILE
    failed = [x["result"]["ok"] for x in lines]
    assert failed == [False] * 6 + [True, True, True, False, True, True]
    assert lines[8]["result"]["exit_code"] == 124


# -- a machine really gone --------------------------------------------------------------


def test_a_killed_vm_is_infra_and_later_steps_say_the_episode_is_over(tmp_path):
    task_env = TaskEnv(TASK, config=RigConfig(), out=tmp_path / "ep")
    task_env.reset()
    try:
        obs, _, _ = task_env.step({"action": "answer", "text": "Working on it [/]"})
        assert obs.ok
        task_env.episode.world["laptop"].kill()
        started = time.monotonic()
        with pytest.raises(Exception) as info:
            step(task_env, action="shell", command="echo hi")
        assert is_infra(info.value), info.value
        assert time.monotonic() - started < 30  # no reconnecting to a dead machine
        with pytest.raises(EpisodeOver, match="the episode is over"):
            step(task_env, action="shell", command="echo again")
        result = task_env.result
        assert result is not None and result.infra_error.startswith("agent: DeviceLost")
        assert result.messages and result.messages[0]["text"] == "Working on it [/]"
        assert result.steps == 1  # the answer; the step the machine died in is recorded apart
    finally:
        task_env.close()
    lines = (tmp_path / "ep" / "trajectory.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["action"]["command"] == "echo hi"
    assert "infrastructure failure" in last["result"]["error"]
    assert json.loads((tmp_path / "ep" / "messages.json").read_text())[0]["text"] == (
        "Working on it [/]"
    )
    score = json.loads((tmp_path / "ep" / "score.json").read_text())
    assert score["infra_error"] and score["error"] is None and score["messages"]


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("sudo -n bash -c 'busybox poweroff -f'", "guest-shutdown"),
        ("sudo -n bash -c 'echo c > /proc/sysrq-trigger'", "guest-"),  # a kernel panic
    ],
)
def test_a_guest_that_shuts_itself_down_is_the_agents_failure(tmp_path, command, reason):
    # QEMU exits with status 0 on a host SIGTERM as on a guest poweroff: the rig holds a
    # guest that ended itself paused, so it can tell the agent's doing from a machine gone.
    task_env = TaskEnv(TASK, config=RigConfig(), out=tmp_path / "ep")
    task_env.reset()
    try:
        assert step(task_env, action="write_file", path="/home/user/answer.txt", content="done").ok
        started = time.monotonic()
        obs = step(task_env, action="shell", command=command)
        assert not obs.ok and "the machine shut itself down (" + reason in obs.error, obs
        assert time.monotonic() - started < 30
        for action in (
            {"action": "shell", "command": "echo hi"},
            {"action": "read_file", "path": "/home/user/answer.txt"},
            {"action": "write_file", "path": "/tmp/x", "content": "x"},
        ):
            obs = step(task_env, **action)
            assert not obs.ok and "shut itself down" in obs.error, obs
    finally:
        closing = time.monotonic()
        result = task_env.close()
    # Scoring reads a guest held paused: every read (the root helper's too) says at once
    # that it shut itself down, none waits for its deadline (120 s for a helper program).
    assert time.monotonic() - closing < 60
    assert result is not None and result.infra_error is None and result.error is None
    assert not result.passed  # its answer file cannot be read any more: the agent's failure
    assert "shut itself down" in result.checks[0]["detail"]
