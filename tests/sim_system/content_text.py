"""How a client sends text through ``content insert`` and reads it back (shared by tests)."""

from __future__ import annotations

import shlex

from hypothesis import strategies as st

# Arbitrary text a user might have: quotes, $, backticks, newlines, %, emoji, CJK, controls.
# NUL cannot be in a command-line argument, and lone surrogates are not text.
HOSTILE = "'\"$`\\\n%:;&|<>(){}*?[]#~ \t\r😀🎉漢字かなé"
text_strategy = st.text(
    alphabet=st.one_of(
        st.sampled_from(HOSTILE),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=60,
)


def bind_escape(value: str) -> str:
    """Escape a value for ``--bind col:s:VALUE`` (the tool reads ``\\`` as an escape)."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


def insert_command(address: str, body: str) -> str:
    """The command line adbutils sends for a list of arguments (each ``shlex.quote``d)."""
    args = [
        "content",
        "insert",
        "--uri",
        "content://sms/inbox",
        "--bind",
        "address:s:" + bind_escape(address),
        "--bind",
        "body:s:" + bind_escape(body),
    ]
    return " ".join(shlex.quote(a) for a in args)


def query_command(row_id: int) -> str:
    args = ["content", "query", "--uri", f"content://sms/{row_id}", "--projection", "body"]
    return " ".join(shlex.quote(a) for a in args)


def parse_single_body(output: str) -> str:
    """The body of ``Row: 0 body=…`` (the value runs to the final newline, newlines included)."""
    prefix = "Row: 0 body="
    assert output.startswith(prefix) and output.endswith("\n"), output
    return output[len(prefix) : -1]
