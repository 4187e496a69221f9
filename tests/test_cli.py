"""The CLI as a user meets it: a real subprocess, real exit codes."""

import subprocess
import sys

import pytest

GROUPS = ["phone", "vm", "run", "tasks", "events", "suite", "view", "mcp"]


def rig(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rig.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_help_lists_every_group():
    out = rig("--help")
    assert out.returncode == 0, out.stderr
    for group in GROUPS:
        assert f" {group} " in out.stdout, group


def test_invalid_config_is_reported_not_traced(tmp_path):
    (tmp_path / "rig.toml").write_text('[devices]\nlinux = "docker"\n')
    out = rig("config", "show", cwd=tmp_path)
    assert out.returncode == 2
    assert "devices.linux" in out.stderr
    assert "'docker'" in out.stderr
    assert "Traceback" not in out.stderr


def test_config_show_prints_effective_values(tmp_path):
    (tmp_path / "rig.toml").write_text("[linux.qemu]\nmemory_mb = 2048\n")
    out = rig("config", "show", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert '"memory_mb": 2048' in out.stdout
    assert "rig.toml" in out.stderr


def test_mcp_serve_on_a_folder_without_a_task_says_so_and_exits_2(tmp_path):
    out = rig("mcp", "serve", ".", cwd=tmp_path)
    assert out.returncode == 2
    assert "is not a valid task" in out.stderr
    assert "Traceback" not in out.stderr


def test_doctor_reports_real_tools():
    out = rig("doctor")
    assert "adb" in out.stdout
    assert "qemu-system-x86_64" in out.stdout
    assert out.returncode in (0, 1)


def test_command_exit_codes_reach_the_shell(tmp_path):
    # doctor exits 1 when a part the configured world needs is missing: an attach-only
    # world needs only adb, so with PATH emptied adb is missing.
    import os

    env = {**os.environ, "PATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "rig.cli", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "missing for the configured world" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "Missing argument"),
        (["suite", "run", "x", "--trials", "0"], "Invalid value for '--trials'"),
        (["nonsense"], "No such command"),
    ],
)
def test_usage_errors_are_messages_not_tracebacks(args, message):
    out = rig(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
