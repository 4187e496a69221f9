"""The queries every device answers alike, in one place so phone and VM speak one vocabulary."""

# The kinds and their answers: docs/state.md. Each device layer adds its own kinds (subclasses
# of Query) in its readers module. This package imports nothing else of clawrig.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError


class Query(BaseModel):
    """A typed state query: a small record told apart by its ``kind``."""

    model_config = ConfigDict(extra="forbid")


class FileQuery(Query):
    kind: Literal["file"] = "file"
    path: str


class HashQuery(Query):
    kind: Literal["sha256"] = "sha256"
    path: str


class TreeHashQuery(Query):
    kind: Literal["tree_hashes"] = "tree_hashes"
    root: str


class CommandQuery(Query):
    kind: Literal["command"] = "command"
    command: str
    timeout: float = 60.0


class _Ran(Protocol):
    stdout: str
    stderr: str
    exit_code: int


def command_answer(ran: _Ran) -> dict[str, Any]:
    """The answer to a ``command`` query, from the device's own command result."""
    return {"stdout": ran.stdout, "stderr": ran.stderr, "exit_code": ran.exit_code}


def parse(query: Any, kinds: TypeAdapter[Any], error: type[Exception], device: str) -> Any:
    """A typed query from a typed one or a mapping naming its kind (validated by ``kinds``);
    bad input raises the layer's input ``error``, naming the query."""
    if isinstance(query, Query):
        return query
    if not isinstance(query, Mapping):
        raise error(f"a state query is a mapping with a kind, not {query!r}")
    try:
        return kinds.validate_python(dict(query))
    except ValidationError as exc:
        raise error(f"invalid {device} state query {dict(query)!r}: {exc}") from None
