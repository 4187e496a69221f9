"""``$(( ))`` arithmetic: integers, variables, C operators; nothing else is evaluated."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Mapping

_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_CMP = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ArithError(ValueError):
    """An arithmetic expression the shell rejects."""


def evaluate(expr: str, variables: Mapping[str, str]) -> int:
    text = expr.strip() or "0"
    text = text.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ArithError("syntax error in expression") from None
    return int(_eval(tree.body, variables))


def _var(name: str, variables: Mapping[str, str]) -> int:
    raw = (variables.get(name) or "0").strip() or "0"
    try:
        return int(raw, 0) if not raw.lstrip("-").isdigit() else int(raw)
    except ValueError:
        raise ArithError(f"{raw}: bad number") from None


def _eval(node: ast.AST, v: Mapping[str, str]) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name):
        return _var(node.id, v)
    if isinstance(node, ast.UnaryOp):
        x = _eval(node.operand, v)
        if isinstance(node.op, ast.USub):
            return -x
        if isinstance(node.op, ast.UAdd):
            return x
        if isinstance(node.op, ast.Not):
            return int(not x)
        if isinstance(node.op, ast.Invert):
            return ~x
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, v), _eval(node.right, v)
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
            if b == 0:
                raise ArithError("divide by zero")
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncation
            return q if not isinstance(node.op, ast.Mod) else a - q * b
        fn = _BIN.get(type(node.op))
        if fn is not None:
            return int(fn(a, b))
    if isinstance(node, ast.BoolOp):
        vals = [_eval(x, v) for x in node.values]
        return int(all(vals) if isinstance(node.op, ast.And) else any(vals))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, v)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, v)
            fn = _CMP.get(type(op))
            if fn is None or not fn(left, right):
                return 0
            left = right
        return 1
    if isinstance(node, ast.IfExp):
        return _eval(node.body, v) if _eval(node.test, v) else _eval(node.orelse, v)
    raise ArithError("syntax error in expression")
