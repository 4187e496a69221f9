"""What the CLI shows while it works: phase bars, device logs, -q/-v, the run's log file."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from rich.console import Console

from rig.progress import Reporter, forward_device_logs, log_to_file, setup_logging
from tests.test_cli import rig


def _reporter(quiet: bool = False) -> Reporter:
    return Reporter(Console(file=io.StringIO(), force_terminal=True), "task", quiet=quiet)


def test_step_messages_drive_a_bar_and_plain_ones_the_status_line() -> None:
    with _reporter() as r:
        r("allocate: phone (android)")
        line = r.progress.tasks[0]
        assert line.description == "task: allocate: phone (android)" and line.total is None
        r("[0/4] debootstrap bookworm")
        r("debootstrap: I: Retrieving Release")  # streamed build output: the status line
        r("[2/4] extracting the kernel")
        bar = r.progress.tasks[1]
        assert (bar.completed, bar.total, bar.description) == (2, 4, "  extracting the kernel")
        assert r.progress.tasks[0].description == "task: debootstrap: I: Retrieving Release"
        r("[4/4] image ready: /cache/x")
        assert len(r.progress.tasks) == 1  # the finished phase's bar is gone


def test_quiet_shows_nothing() -> None:
    console = Console(file=io.StringIO(), force_terminal=True)
    with Reporter(console, "task", quiet=True) as r:
        r("[1/4] configuring")
        r("seed: phone")
        assert r.progress.tasks == []
    assert console.file.getvalue() == ""


def test_the_vm_backends_log_reaches_the_display() -> None:
    with _reporter() as r, forward_device_logs(r):
        logging.getLogger("linux_vm.backends").info("[1/4] configuring the guest")
        logging.getLogger("elsewhere").info("not a device message")
        assert r.progress.tasks[1].completed == 1
    logging.getLogger("linux_vm.backends").info("[3/4] after the run: no longer shown")
    assert r.progress.tasks[1].completed == 1


def test_the_run_log_is_written_and_secrets_redacted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLAWRIG_TEST_API_KEY", "sk-test-0123456789abcdef")
    with log_to_file(tmp_path / "rig.log") as path:
        logging.getLogger("linux_vm.snapshot").debug("key is sk-test-0123456789abcdef here")
    text = path.read_text()
    assert "linux_vm.snapshot" in text and "key is [REDACTED] here" in text
    assert "sk-test" not in text


def test_verbosity_sets_the_stderr_level() -> None:
    def level() -> int:
        (h,) = [h for h in logging.getLogger().handlers if getattr(h, "_clawrig", False)]
        return h.level

    setup_logging(0, False)
    assert level() == logging.WARNING
    setup_logging(1, False)
    assert level() == logging.INFO
    setup_logging(2, False)
    assert level() == logging.DEBUG
    setup_logging(2, True)
    assert level() == logging.ERROR
    setup_logging(0, False)


def test_cli_has_verbose_quiet_and_completion() -> None:
    out = rig("--help")
    for flag in ("--verbose", "--quiet", "--install-completion", "--show-completion"):
        assert flag in out.stdout, flag


def test_a_failed_run_prints_where_its_log_is(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # An attached Linux host without a key: the episode ends in a clear error at allocate.
    result = rig(
        "-q",
        "run",
        "tasks/suite/nightly-backup-crontab",
        "--agent",
        "noop",
        "--linux",
        "attach:user@127.0.0.1:9",
        "--out",
        str(out),
    )
    assert result.returncode in (2, 3), result.stderr
    assert f"log: {out / 'rig.log'}" in result.stderr
    assert (out / "rig.log").is_file()
