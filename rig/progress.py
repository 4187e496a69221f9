"""What the CLI shows while it works, and the log it keeps.

Long phases report plain strings through a ``progress(message)`` callback (the
device packages cannot import rich). A message that starts ``[i/n]`` is a phase
of n steps (the VM image build, for one) with i done, and gets a bar with the
time elapsed and an estimate of what is left; any other message replaces the
status line. The VM backend reports through its logger (``linux_vm``), so
:func:`forward_device_logs` hands those records to the same display.

:func:`setup_logging` is what ``-v`` / ``-q`` set; :func:`log_to_file` writes
the whole debug log of one run next to its record (secrets redacted).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, RenderableType
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from rig.redact import Redactor

STEP = re.compile(r"^\[(\d+)/(\d+)\]\s*(.*)$", re.DOTALL)
DEVICE_LOGGERS = ("linux_vm", "emulator")


class _Bar(ProgressColumn):
    """A column shown only for tasks with a known total (bars, not the status line)."""

    def __init__(self, inner: ProgressColumn) -> None:
        super().__init__()
        self.inner = inner

    def render(self, task: Task) -> RenderableType:
        return self.inner.render(task) if task.total is not None else Text("")


class Reporter:
    """One status line (``title: message``) and a bar per ``[i/n]`` phase; silent if quiet."""

    def __init__(self, console: Console, title: str, *, quiet: bool = False) -> None:
        self.title = title
        self.quiet = quiet
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            _Bar(BarColumn(bar_width=24)),
            _Bar(MofNCompleteColumn()),
            TimeElapsedColumn(),
            _Bar(TextColumn("eta")),
            _Bar(TimeRemainingColumn()),
            console=console,
            transient=True,
            disable=quiet,
        )
        self._line: TaskID | None = None
        self._bar: TaskID | None = None

    def __enter__(self) -> Reporter:
        if not self.quiet:
            self.progress.start()
            self._line = self.progress.add_task(self.title, total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, message: str) -> None:
        if self.quiet or self._line is None:
            return
        step = STEP.match(message)
        if step is None:
            self.progress.update(self._line, description=f"{self.title}: {message}")
            return
        done, total, what = int(step[1]), int(step[2]), step[3]
        if self._bar is None:
            self._bar = self.progress.add_task(what, total=total)
        self.progress.update(self._bar, completed=done, total=total, description=f"  {what}")
        if done >= total:
            self.progress.remove_task(self._bar)
            self._bar = None


class _ToReporter(logging.Handler):
    def __init__(self, reporter: Reporter) -> None:
        super().__init__(logging.INFO)
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.reporter(record.getMessage())


@contextlib.contextmanager
def forward_device_logs(reporter: Reporter) -> Iterator[None]:
    """While inside, the device packages' INFO messages (image build, snapshots) show."""
    handler = _ToReporter(reporter)
    loggers = [logging.getLogger(name) for name in DEVICE_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def setup_logging(verbose: int, quiet: bool, console: Console | None = None) -> None:
    """Log records to stderr: warnings by default, ``-v`` info, ``-vv`` debug, ``-q`` errors."""
    level = (
        logging.ERROR
        if quiet
        else logging.DEBUG
        if verbose >= 2
        else logging.INFO
        if verbose == 1
        else logging.WARNING
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_clawrig", False)]:
        root.removeHandler(handler)
    handler = RichHandler(
        console=console or Console(stderr=True), show_path=False, markup=False, level=level
    )
    handler._clawrig = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)  # log_to_file lowers it to DEBUG while a run writes its log
    logging.getLogger("PIL").setLevel(logging.INFO)  # a line per EXIF tag otherwise


class _Redacting(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.text(super().format(record))


@contextlib.contextmanager
def log_to_file(path: Path) -> Iterator[Path]:
    """Every log record of the run (debug and up) into ``path``, known secrets redacted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(_Redacting(Redactor.from_environment()))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()
