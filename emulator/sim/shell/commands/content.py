"""``content``: the provider command line tool, parsed the way AOSP's ``Content`` parses.

Clients and seeders depend on its exact behaviour: ``--bind col:type:value``
splits on unescaped colons (``\\`` escapes any character, so ``\\:`` is a
literal colon) into exactly three parts; ``--projection`` splits on ``:``;
rows print as ``Row: N col=value, …`` with ``NULL`` for nulls and
``No result found.`` when empty. Bad arguments print a usage text and an
``[ERROR]`` line on stdout, provider failures go to stderr, and the status is
0 either way, as the real tool (a Java ``main`` that returns) does.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Any

from emulator.sim.providers import ProviderError
from emulator.sim.providers.routes import split as split_uri
from emulator.sim.shell.commands import command
from emulator.sim.shell.commands.system import apply_setting_side_effects
from emulator.sim.shell.interp import Interp, Io

USAGE = """usage: adb shell content [subcommand] [options]

usage: adb shell content insert --uri <URI> [--user <USER_ID>] --bind <BINDING> [--bind ...]
  <BINDING> is <COLUMN_NAME>:<TYPE>:<COLUMN_VALUE>; <TYPE> is one of
  b (boolean), s (string), i (integer), l (long), f (float), d (double), n (null).
  Use \\: for a colon inside a value and \\\\ for a backslash.

usage: adb shell content update --uri <URI> [--user <USER_ID>] [--where <WHERE>] --bind ...
usage: adb shell content delete --uri <URI> [--user <USER_ID>] [--where <WHERE>]
usage: adb shell content query --uri <URI> [--user <USER_ID>] [--projection <A:B:C>]
         [--where <WHERE>] [--sort <SORT_ORDER>]
usage: adb shell content call --uri <URI> --method <METHOD> [--arg <ARG>] [--extra <BINDING>]
usage: adb shell content gettype --uri <URI>
"""

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


class _ArgError(ValueError):
    """A command line the real tool rejects with usage and ``[ERROR] message``."""


def split_escaped(argument: str, sep: str = ":") -> list[str]:
    """AOSP's ``splitWithEscaping``: ``\\`` takes the next character literally."""
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(argument):
        c = argument[i]
        if c == "\\":
            i += 1
            if i == len(argument):
                raise _ArgError("Invalid escaping")
            cur.append(argument[i])
        elif c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _java_int(text: str, bounds: tuple[int, int]) -> int:
    if not re.fullmatch(r"[-+]?\d+", text):
        raise _ArgError(f'For input string: "{text}"')
    value = int(text)
    if not bounds[0] <= value <= bounds[1]:
        raise _ArgError(f'For input string: "{text}"')
    return value


def _java_float(text: str) -> float:
    t = text.strip()
    if not re.fullmatch(r"[-+]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[fFdD]?)", t):
        raise _ArgError(f'For input string: "{text}"' if t else "empty String")
    t = t.rstrip("fFdD")
    return float(t.replace("Infinity", "inf"))


def parse_binding(argument: str | None) -> tuple[str, Any]:
    if not argument:
        raise _ArgError(f"Binding not well formed: {argument if argument is not None else 'null'}")
    parts = split_escaped(argument)
    if len(parts) != 3:
        raise _ArgError(f"Binding not well formed: {argument}")
    column, kind, value = parts
    if kind == "s":
        return column, value
    k = kind.lower()
    if k == "b":
        return column, value.lower() == "true"
    if k == "i":
        return column, _java_int(value, _INT32)
    if k == "l":
        return column, _java_int(value, _INT64)
    if k == "f":
        return column, _float32(_java_float(value))
    if k == "d":
        return column, _java_float(value)
    if k == "n":
        return column, None
    raise _ArgError(f"Unsupported type: {kind}")


def _float32(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def java_float_text(x: float) -> str:
    """``String.valueOf(float)`` as Java prints it (the tool reads REAL columns as float)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    f = _float32(x)
    if f == 0:
        return "-0.0" if math.copysign(1, f) < 0 else "0.0"
    for digits in range(1, 10):
        text = f"{f:.{digits}g}"
        if _float32(float(text)) == f:
            break
    value = float(text)
    if 1e-3 <= abs(value) < 1e7:
        out = repr(value)
        if "e" in out:
            out = f"{value:f}".rstrip("0")
        return out if "." in out else out + ".0"
    mantissa, _, exp = f"{value:.{max(digits - 1, 1)}e}".partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0")
        if mantissa.endswith("."):
            mantissa += "0"
    else:
        mantissa += ".0"
    return f"{mantissa}E{int(exp)}"


def format_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_float_text(value)
    if isinstance(value, bytes):
        return "BLOB"
    return str(value)


class _Args:
    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.i = 0

    def next(self) -> str | None:
        if self.i < len(self.args):
            self.i += 1
            return self.args[self.i - 1]
        return None

    def required(self, name: str) -> str:
        value = self.next()
        if not value or value.startswith("--"):
            raise _ArgError(f"No value for argument: {name}")
        return value


def _parse(args: list[str]) -> dict[str, Any]:
    a = _Args(args)
    op = a.next()
    allowed = {
        "insert": {"--uri", "--user", "--bind", "--extra"},
        "update": {"--uri", "--user", "--where", "--bind", "--extra"},
        "delete": {"--uri", "--user", "--where", "--extra"},
        "query": {"--uri", "--user", "--where", "--sort", "--projection", "--extra"},
        "call": {"--uri", "--user", "--method", "--arg", "--extra"},
        "gettype": {"--uri", "--user"},
        "read": {"--uri", "--user"},
        "write": {"--uri", "--user"},
    }
    if op not in allowed:
        raise _ArgError(f"Unsupported operation: {op if op is not None else 'null'}")
    cmd: dict[str, Any] = {"op": op, "values": {}, "extras": {}}
    while (arg := a.next()) is not None:
        if arg not in allowed[op]:
            raise _ArgError(f"Unsupported argument: {arg}")
        if arg == "--uri":
            cmd["uri"] = a.required(arg)
        elif arg == "--user":
            cmd["user"] = _java_int(a.required(arg), _INT32)
        elif arg == "--bind":
            k, v = parse_binding(a.next())
            cmd["values"][k] = v
        elif arg == "--extra":
            k, v = parse_binding(a.next())
            cmd["extras"][k] = v
        elif arg == "--where":
            cmd["where"] = a.required(arg)
        elif arg == "--sort":
            cmd["sort"] = a.required(arg)
        elif arg == "--projection":
            cmd["projection"] = re.split(r"\s*:\s*", a.required(arg))
        elif arg == "--method":
            cmd["method"] = a.required(arg)
        elif arg == "--arg":
            cmd["arg"] = a.required(arg)
    if "uri" not in cmd:
        raise _ArgError("Content provider URI not specified. Did you specify --uri argument?")
    if op in ("insert", "update") and not cmd["values"]:
        raise _ArgError("Bindings not specified. Did you specify --bind argument(s)?")
    if op == "call" and "method" not in cmd:
        raise _ArgError("Content provider method not specified.")
    return cmd


_TYPES = {
    "sms": "vnd.android-dir/sms",
    "call_log": "vnd.android.cursor.dir/calls",
    "com.android.contacts": "vnd.android.cursor.dir/contact",
    "com.android.calendar": "vnd.android.cursor.dir/event",
}


@command("content")
def content(sh: Interp, io: Io, argv: list[str]) -> int:
    try:
        cmd = _parse(argv[1:])
    except _ArgError as exc:
        io.out(USAGE + "\n[ERROR] " + str(exc) + "\n")
        return 0
    uri: str = cmd["uri"]
    try:
        authority = split_uri(uri)[0] if uri.startswith("content://") else uri.split(":", 1)[0]
    except ProviderError:
        authority = ""
    prov = sh.ctx.providers
    try:
        if cmd.get("user", 0) not in (0, -2):
            raise ProviderError(f"Invalid user: {cmd['user']}", "java.lang.SecurityException")
        op = cmd["op"]
        if op == "query":
            rows = prov.query(uri, cmd.get("projection"), cmd.get("where"), (), cmd.get("sort"))
            if not rows:
                io.out("No result found.\n")
            for n, row in enumerate(rows):
                cols = ", ".join(f"{k}={format_value(v)}" for k, v in row.items())
                io.out(f"Row: {n} {cols}\n")
        elif op == "insert":
            prov.insert(uri, cmd["values"])
            _settings_side_effects(sh, uri, cmd["values"])
        elif op == "update":
            prov.update(uri, cmd["values"], cmd.get("where"))
            _settings_side_effects(sh, uri, cmd["values"])
        elif op == "delete":
            prov.delete(uri, cmd.get("where"))
        elif op == "call":
            io.out(f"Result: {_call(sh, authority, cmd)}\n")
        elif op == "gettype":
            io.out(f"Result: {_TYPES.get(authority, 'null')}\n")
        else:
            raise ProviderError(
                f"No files supported by provider at {uri}", "java.io.FileNotFoundException"
            )
    except ProviderError as exc:
        io.err(f"Error while accessing provider:{authority}\n{exc.exception}: {exc}\n")
    return 0


def _settings_side_effects(sh: Interp, uri: str, values: dict[str, Any]) -> None:
    m = re.match(r"content://settings/(system|secure|global)(?:/([^/?]+))?", uri)
    if m:
        name = values.get("name") or m.group(2)
        if name is not None and "value" in values:
            v = values["value"]
            apply_setting_side_effects(sh, m.group(1), str(name), None if v is None else str(v))


def _call(sh: Interp, authority: str, cmd: dict[str, Any]) -> str:
    """``call`` on the settings provider (``GET_system``, ``PUT_global`` …); others answer null."""
    method: str = cmd["method"]
    m = re.fullmatch(r"(GET|PUT|DELETE)_(system|secure|global)", method)
    if authority != "settings" or not m:
        return "null"
    verb, ns = m.groups()
    name = cmd.get("arg")
    if not name:
        raise ProviderError("Must provide a setting name")
    prov = sh.ctx.providers
    if verb == "GET":
        value = prov.setting(ns, name)
        return f"Bundle[{{value={'null' if value is None else value}}}]"
    if verb == "PUT":
        value = cmd["extras"].get("value")
        prov.put_setting(ns, name, None if value is None else str(value))
        apply_setting_side_effects(sh, ns, name, None if value is None else str(value))
        return "null"
    prov.delete_setting(ns, name)
    return "null"
