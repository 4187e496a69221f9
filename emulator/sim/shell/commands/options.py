"""Toybox-style option parsing: ``-la`` bundles, values after ``-n 5`` or ``-n5``, ``--``."""

from __future__ import annotations

from emulator.sim.shell.interp import CommandError


def parse(
    argv: list[str],
    flags: str = "",
    valued: str = "",
    long: dict[str, str] | None = None,
    repeat: str = "",
) -> tuple[dict[str, str | bool], list[str]]:
    """Split ``argv[1:]`` into options and operands; unknown options are an error.

    A valued option in ``repeat`` may be given several times; its values are joined
    with newlines (``grep -e a -e b``, ``sed -e s/a/b/ -e s/c/d/``).
    """
    name = argv[0]
    opts: dict[str, str | bool] = {}
    rest: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1 :])
            break
        if a.startswith("--") and long is not None:
            key, eq, val = a[2:].partition("=")
            if key not in long:
                raise CommandError(f"{name}: Unknown option '{a}'")
            target = long[key]
            if target in valued and not eq:
                i += 1
                if i >= len(args):
                    raise CommandError(f"{name}: Missing argument to '{a}'")
                val = args[i]
            opts[target] = val if target in valued else True
        elif a.startswith("-") and len(a) > 1 and (not a[1].isdigit() or a[1] in flags):
            j = 1
            while j < len(a):
                c = a[j]
                if c in valued:
                    val = a[j + 1 :]
                    if not val:
                        i += 1
                        if i >= len(args):
                            raise CommandError(f"{name}: Missing argument to -{c}")
                        val = args[i]
                    if c in opts and c in repeat:
                        opts[c] = f"{opts[c]}\n{val}"
                    else:
                        opts[c] = val
                    break
                if c not in flags:
                    raise CommandError(f"{name}: Unknown option '{c}'")
                opts[c] = True
                j += 1
        else:
            rest.append(a)
        i += 1
    return opts, rest


def integer(value: object, name: str, base: int = 10) -> int:
    """An option's number, or the error toybox gives for one that is not."""
    text = str(value).strip()
    try:
        return int(text, base)
    except ValueError:
        raise CommandError(f"{name}: invalid number '{value}'") from None
