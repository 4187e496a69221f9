"""YAML that remembers where everything came from, and errors that say so.

Task and persona files are validated by pydantic models; this module keeps the
line of every key and value so each problem reads ``file:line: field: message``.
The YAML dialect is deliberately plain: ``true``/``false`` only (no ``yes``/``on``),
no sexagesimal numbers (``14:00`` stays a string), no implicit timestamps (times
are parsed by the models), and duplicate keys are errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file, pointing at the line to fix."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ProblemsFound(ValueError):
    """Raised with every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like implicit types."""


_PlainLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:int",
        r"^[-+]?(?:0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+)$",
        "-+0123456789",
    ),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
]:
    _PlainLoader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


@dataclass
class Located:
    """Parsed YAML data plus the 1-based line of every key path in it."""

    data: Any
    file: str
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def sub(self, prefix: Loc) -> Located:
        """A view of the subtree at ``prefix`` (same file, same lines)."""
        n = len(prefix)
        lines = {k[n:]: v for k, v in self.lines.items() if k[:n] == tuple(prefix)}
        if () not in lines:
            lines[()] = self.line(prefix)
        data = self.data
        for key in prefix:
            data = data[key]
        return Located(data, self.file, lines)


def _walk(node: yaml.Node, value: Any, loc: Loc, out: Located) -> None:
    if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                path = ".".join(str(p) for p in (*loc, key))
                out.problems.append(
                    Problem(out.file, line, path, f"duplicate key (first at line {seen[key]})")
                )
            seen[key] = line
            out.lines[(*loc, key)] = line
            if key in value:
                _walk(value_node, value[key], (*loc, key), out)
    elif isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        for i, (item_node, item) in enumerate(zip(node.value, value, strict=False)):
            out.lines[(*loc, i)] = item_node.start_mark.line + 1
            _walk(item_node, item, (*loc, i), out)


def load_yaml(path: Path, text: str | None = None) -> Located:
    """Parse ``path``; syntax errors become problems (with data ``None``), never tracebacks."""
    name = str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Located(None, name, problems=[Problem(name, 1, "file", "no such file")])
        except UnicodeDecodeError as exc:
            return Located(None, name, problems=[Problem(name, 1, "file", f"not UTF-8: {exc}")])
    loader = _PlainLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        return Located(None, name, problems=[Problem(name, line, "yaml", msg or "not valid YAML")])
    except yaml.YAMLError as exc:
        return Located(None, name, problems=[Problem(name, 1, "yaml", str(exc))])
    finally:
        loader.dispose()
    out = Located(data, name)
    out.lines[()] = node.start_mark.line + 1 if node is not None else 1
    if node is not None:
        _walk(node, data, (), out)
    return out


def dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top)"


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        return f"{err['input']!r} is not allowed; expected {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return "required field 'kind' is missing"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg


def _clean_loc(loc: Iterable[Any]) -> Loc:
    """Drop pydantic's union-branch labels from an error location.

    A discriminated union puts the tag right after the position of the value
    (at the start, or after a list index); only a registered tag in such a
    position is dropped, so a field that shares a tag's name survives.
    """
    out: list[str | int] = []
    dropped_here = False
    for part in loc:
        if isinstance(part, str) and part.startswith("function-"):
            continue
        after_slot = (not out or isinstance(out[-1], int)) and not dropped_here
        if isinstance(part, str) and after_slot and part in _BRANCH_LABELS:
            dropped_here = True
            continue
        dropped_here = False
        out.append(part)
    return tuple(out)


_BRANCH_LABELS: set[str] = set()


def register_branch_labels(labels: Iterable[str]) -> None:
    """Tag values of discriminated unions, which pydantic puts into error locations."""
    _BRANCH_LABELS.update(labels)


def error_loc(err: dict[str, Any]) -> Loc:
    """Where a pydantic error points, with union labels removed and tag errors on ``kind``."""
    loc = _clean_loc(err["loc"])
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "kind")
    return loc


def problems_from(
    exc: ValidationError, src: Located, prefix: Loc = (), shown: Loc | None = None
) -> list[Problem]:
    """Turn a pydantic error into located problems; ``prefix`` is where the model sits."""
    out = []
    for err in exc.errors():
        loc = error_loc(err)
        line = src.line((*prefix, *loc))
        name = dotted((*(prefix if shown is None else shown), *loc))
        out.append(Problem(src.file, line, name, _message(err)))
    return out


def validate(
    model: type[BaseModel], src: Located, context: dict[str, Any] | None = None
) -> BaseModel | None:
    """Validate ``src.data`` into ``model``; problems go to ``src.problems``."""
    try:
        return model.model_validate(src.data, context=context)
    except ValidationError as exc:
        src.problems.extend(problems_from(exc, src))
        return None
