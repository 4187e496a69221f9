"""The configuration reference, generated from the pydantic models of ``rig.toml``.

``rig config schema`` prints it and ``docs/configuration.md`` carries it
between two markers; a test keeps the page in step with the models, so a key
that is added, renamed or re-defaulted shows up in the docs or fails CI.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from rig.config import RigConfig

BEGIN = "<!-- rig config schema: begin (generated; edit the models, then `make config-docs`) -->"
END = "<!-- rig config schema: end -->"


def _type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a!r}`".replace("'", '"') for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [_type(a) for a in args if a is not type(None)]
        return " \\| ".join(parts) + (" or unset" if type(None) in args else "")
    if origin is list:
        return f"list of {_type(args[0])}" if args else "list"
    if annotation is Path:
        return "path"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{m.value!r}`" for m in annotation)
    return getattr(annotation, "__name__", str(annotation))


def _limits(info: FieldInfo) -> str:
    marks = {at.Ge: (">=", "ge"), at.Gt: (">", "gt"), at.Le: ("<=", "le"), at.Lt: ("<", "lt")}
    out = []
    for m in info.metadata:
        for kind, (sign, attr) in marks.items():
            if isinstance(m, kind):
                out.append(f"{sign} {getattr(m, attr)}")
        pattern = getattr(m, "pattern", None)
        if pattern:
            out.append(f"matches `{pattern}`")
    return ", ".join(out)


def _default(info: FieldInfo) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "shown_default" in extra:
        return f"`{extra['shown_default']}`"
    if info.default is not PydanticUndefined:
        value = info.default
    elif info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    else:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`".replace("'", '"')


def _sections(model: type[BaseModel], prefix: str) -> list[tuple[str, type[BaseModel]]]:
    """``(dotted section name, model)`` depth first, sections before their subsections."""
    found = [(prefix, model)] if prefix else []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel) and not info.exclude:
            found += _sections(ann, f"{prefix}.{name}" if prefix else name)
    return found


def reference_markdown() -> str:
    """Every key of ``rig.toml``: section, key, type, default and what it means."""
    lines: list[str] = []
    for section, model in _sections(RigConfig, ""):
        leaves = [
            (name, info)
            for name, info in model.model_fields.items()
            if not info.exclude
            and not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel))
        ]
        if not leaves:
            continue
        lines += [f"### `[{section}]`", ""]
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        if doc and not doc.startswith("!!!"):
            lines += [doc, ""]
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for name, info in leaves:
            kind = _type(info.annotation)
            limits = _limits(info)
            if limits:
                kind += f" ({limits})"
            meaning = (info.description or "").replace("|", "\\|")
            lines.append(f"| `{name}` | {kind} | {_default(info)} | {meaning} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def page_block(text: str) -> str:
    """The generated part of a page (between the markers), or '' when it has none."""
    if BEGIN not in text or END not in text:
        return ""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write_page(path: Path) -> bool:
    """Replace the page's generated block with the current reference; True if it changed."""
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} has no '{BEGIN}' ... '{END}' block")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{reference_markdown()}{END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False
