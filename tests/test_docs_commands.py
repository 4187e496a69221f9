"""Every fenced ``rig …`` line of the README and docs/ names real commands and options.

The check is ``--help``-level: the command path resolves in the CLI, each option
is one that command (or the root) declares, its ``--help`` runs, and arguments
that name a repository path (``tasks/…``, ``tests/…``) exist. Placeholders
(``TASK``, ``HEAD:6379``, ``...``) are fine; ``[--flag]`` is an optional flag.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from rig.cli import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PREFIX = re.compile(r"^(?:\$ )?(?:\.venv/bin/)?rig(?: |$)")


def fenced_rig_lines(text: str) -> list[str]:
    """The ``rig …`` command lines inside fenced blocks, comments removed."""
    found = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.strip()
            if PREFIX.match(line):
                found.append(PREFIX.sub("rig ", line, count=1).split(" #", 1)[0].strip())
    return found


def _words(line: str) -> list[str]:
    words = []
    for w in shlex.split(line)[1:]:
        if w in ("...", "…") or w.endswith("…"):
            continue
        words += [p for p in w.strip("[]").split() if p]
    return words


def _is_group(cmd: object) -> bool:
    # typer may bundle its own click: recognise a group by its shape, not its class.
    return isinstance(getattr(cmd, "commands", None), dict)


def problems(line: str, cli: object) -> list[str]:
    """What is wrong with one documented command line ([] when it is fine)."""
    words = _words(line)
    root_opts = {o for p in cli.params for o in [*p.opts, *p.secondary_opts]}
    cmd, path = cli, []
    while words and _is_group(cmd):
        word = words[0]
        if word.startswith("-"):
            if word.split("=")[0] not in root_opts:
                return [f"{line!r}: unknown option {word} of `rig {' '.join(path)}`"]
            words = words[2:] if "=" not in word else words[1:]
            continue
        sub = cmd.commands.get(word)
        if sub is None:
            return [f"{line!r}: `rig {' '.join([*path, word])}` is not a command"]
        cmd, path, words = sub, [*path, word], words[1:]
    if _is_group(cmd):
        return [f"{line!r}: `rig {' '.join(path)}` needs a subcommand"]
    known = {o for p in cmd.params for o in [*p.opts, *p.secondary_opts]} | root_opts
    out = []
    for word in words:
        if word == "--":
            break
        if word.startswith("-") and len(word) > 1 and word.split("=")[0] not in known:
            out.append(f"{line!r}: `rig {' '.join(path)}` has no option {word}")
        elif re.match(r"^(tasks|tests|benchmarks|scripts)/", word) and not (ROOT / word).exists():
            out.append(f"{line!r}: {word} does not exist in the repository")
    return out


def _paths(line: str, cli: object) -> list[str]:
    words, cmd, path = _words(line), cli, []
    while words and _is_group(cmd):
        sub = cmd.commands.get(words[0])
        if sub is None:
            words = words[1:]  # a root option or its value
            continue
        cmd, path, words = sub, [*path, words[0]], words[1:]
    return path


CLI = typer.main.get_command(app)
LINES = [
    (page.relative_to(ROOT).as_posix(), line)
    for page in PAGES
    for line in fenced_rig_lines(page.read_text(encoding="utf-8"))
]


def test_the_docs_show_commands() -> None:
    assert len(LINES) >= 15
    assert {page for page, _ in LINES} >= {"docs/vms.md", "docs/tasks.md", "docs/guide.md"}


@pytest.mark.parametrize(
    ("page", "line"), LINES, ids=[f"{p}:{i}" for i, (p, _) in enumerate(LINES)]
)
def test_documented_command_parses(page: str, line: str) -> None:
    assert problems(line, CLI) == [], page


def test_each_documented_command_has_working_help() -> None:
    runner = CliRunner()
    for path in sorted({tuple(_paths(line, CLI)) for _, line in LINES}):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)


def test_the_check_catches_what_is_wrong() -> None:
    assert problems("rig suite run tasks/suite --agent oracle --workers 2", CLI) == []
    assert problems("rig vm image prune [--dry-run]", CLI) == []
    assert problems("rig suite list", CLI) == [
        "'rig suite list': `rig suite list` is not a command"
    ]
    assert problems("rig run TASK --agnet oracle", CLI) == [
        "'rig run TASK --agnet oracle': `rig run` has no option --agnet"
    ]
    assert problems("rig vm", CLI) == ["'rig vm': `rig vm` needs a subcommand"]
    assert problems("rig mcp serve tasks/suite/no-such-task", CLI) == [
        "'rig mcp serve tasks/suite/no-such-task': tasks/suite/no-such-task does not exist "
        "in the repository"
    ]
    text = "x\n```sh\n.venv/bin/rig doctor   # probe\nls\n```\n`rig inline` is not fenced\n"
    assert fenced_rig_lines(text) == ["rig doctor"]


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_relative_links_of_the_readme_and_docs_resolve() -> None:
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in PAGES
        for target in LINK.findall(page.read_text(encoding="utf-8"))
        if "://" not in target and not (page.parent / target).exists()
    ]
    assert broken == []


def test_every_docs_page_is_linked_from_the_index_or_the_readme() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    unlinked = [p for p in pages if f"]({p})" not in index and f"](docs/{p})" not in readme]
    assert sorted(unlinked) == []
