"""Parse a POSIX shell command line into a small syntax tree.

Clients build command lines with ``shlex.quote`` and append ``; echo X4EXIT:$?``,
seeders send loops and redirects, so the quoting rules (single quotes, double
quotes where only ``$ ` " \\`` and newline are special, backslash) and the
grammar (lists, ``&&``/``||``, pipes, redirects, ``if``/``for``/``while``,
groups and subshells) follow POSIX. The whole line is parsed before anything
runs, as mksh does, so a syntax error runs nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_META = set(" \t\n;&|<>()")
_RESERVED = {
    "if",
    "then",
    "elif",
    "else",
    "fi",
    "for",
    "in",
    "do",
    "done",
    "while",
    "until",
    "case",
    "esac",
}


class ShellSyntaxError(Exception):
    """A command line the shell cannot parse; the message is what mksh would print."""


# -- words ------------------------------------------------------------------
@dataclass
class Part:
    """One piece of a word: ``lit`` text, a ``var`` (``name`` or ``name:-default``), a ``cmd``."""

    kind: str
    text: str
    quoted: bool


@dataclass
class Word:
    parts: list[Part]

    def literal(self) -> str | None:
        """The word's text if it is one unquoted literal (keywords, assignments)."""
        if len(self.parts) == 1 and self.parts[0].kind == "lit" and not self.parts[0].quoted:
            return self.parts[0].text
        return None


# -- commands -----------------------------------------------------------------
@dataclass
class Redirect:
    fd: int
    op: str  # '>', '>>', '<', '>&', '<&', '&>', '<<' (target is then a HereDoc)
    target: Word | HereDoc


@dataclass
class Simple:
    assigns: list[tuple[str, Word]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Pipeline:
    commands: list[object]
    negate: bool = False


@dataclass
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]] = field(default_factory=list)


@dataclass
class Sequence:
    items: list[AndOr] = field(default_factory=list)


@dataclass
class Group:
    body: Sequence
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class If:
    branches: list[tuple[Sequence, Sequence]]
    otherwise: Sequence | None
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class For:
    name: str
    items: list[Word] | None
    body: Sequence
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Case:
    word: Word
    items: list[tuple[list[Word], Sequence]]
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Function:
    """``name() { …; }``: defining it is a command; calling it runs ``body``."""

    name: str
    body: object
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class While:
    cond: Sequence
    body: Sequence
    until: bool
    redirects: list[Redirect] = field(default_factory=list)


# -- the lexer ----------------------------------------------------------------
@dataclass
class HereDoc:
    """A ``<<DELIM`` body; filled in when the lexer reaches the end of its line."""

    delimiter: str
    quoted: bool
    strip_tabs: bool
    body: str | None = None


@dataclass
class Token:
    kind: str  # 'word', 'op', 'io' (an fd number before a redirect)
    value: object


_OPS = ("&&", "||", ";;", ">>", ">&", ">|", "<&", "<<", "&>", "|", "&", ";", "<", ">", "(", ")")


class Lexer:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.pending: list[HereDoc] = []

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t":
                self.i += 1
            elif c == "\\" and s.startswith("\\\n", self.i):
                self.i += 2
            elif c == "\n":
                out.append(Token("op", "\n"))
                self.i += 1
                self._read_heredocs()
            elif c == "#":
                while self.i < len(s) and s[self.i] != "\n":
                    self.i += 1
            elif c in _META:
                for op in _OPS:
                    if s.startswith(op, self.i):
                        self.i += len(op)
                        if op == "<<":
                            out.append(Token("op", "<<"))
                            out.append(Token("heredoc", self._heredoc_start()))
                            break
                        out.append(Token("op", ">" if op == ">|" else op))
                        break
            else:
                start = self.i
                word = self.word()
                nxt = s[self.i] if self.i < len(s) else ""
                raw = s[start : self.i]
                if raw.isdigit() and nxt and nxt in "<>":
                    out.append(Token("io", int(raw)))
                else:
                    out.append(Token("word", word))
        self._read_heredocs()
        if self.pending:
            raise ShellSyntaxError(f"here document '{self.pending[0].delimiter}' unclosed")
        return out

    def _heredoc_start(self) -> HereDoc:
        strip = self.s.startswith("-", self.i)
        if strip:
            self.i += 1
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1
        if self.i >= len(self.s) or self.s[self.i] in _META:
            raise ShellSyntaxError("syntax error: here document needs a delimiter")
        word = self.word()
        quoted = any(p.quoted for p in word.parts)
        delimiter = "".join(p.text if p.kind == "lit" else "$" + p.text for p in word.parts)
        doc = HereDoc(delimiter, quoted, strip)
        self.pending.append(doc)
        return doc

    def _read_heredocs(self) -> None:
        """After a newline: the bodies of the here documents opened on that line."""
        while self.pending and self.i <= len(self.s):
            doc = self.pending.pop(0)
            lines: list[str] = []
            while True:
                if self.i >= len(self.s):
                    raise ShellSyntaxError(f"here document '{doc.delimiter}' unclosed")
                end = self.s.find("\n", self.i)
                line = self.s[self.i : end if end >= 0 else len(self.s)]
                self.i = end + 1 if end >= 0 else len(self.s)
                if doc.strip_tabs:
                    line = line.lstrip("\t")
                if line == doc.delimiter:
                    break
                lines.append(line + "\n")
            doc.body = "".join(lines)

    def heredoc_parts(self) -> list[Part]:
        """A here-document body: like double quotes, but ``"`` is an ordinary character."""
        return self._expanding("$`\\\n", closer=None)

    def word(self) -> Word:
        parts: list[Part] = []
        s = self.s
        buf: list[str] = []

        def flush(quoted: bool = False) -> None:
            if buf:
                parts.append(Part("lit", "".join(buf), quoted))
                buf.clear()

        while self.i < len(s) and s[self.i] not in _META:
            c = s[self.i]
            if c == "\\":
                if self.i + 1 >= len(s):
                    buf.append("\\")
                    self.i += 1
                    continue
                nxt = s[self.i + 1]
                self.i += 2
                if nxt == "\n":
                    continue
                flush()
                parts.append(Part("lit", nxt, True))
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("no closing quote")
                flush()
                parts.append(Part("lit", s[self.i + 1 : end], True))
                self.i = end + 1
            elif c == '"':
                flush()
                self.i += 1
                parts.extend(self.double_quoted())
            elif c == "$" or c == "`":
                flush()
                parts.append(self.dollar(quoted=False))
            else:
                buf.append(c)
                self.i += 1
        flush()
        return Word(parts)

    def double_quoted(self) -> list[Part]:
        return self._expanding('$`"\\\n', closer='"')

    def _expanding(self, escapable: str, closer: str | None) -> list[Part]:
        """Text where ``$`` and backticks expand and a backslash escapes only ``escapable``;
        it ends at ``closer`` (which must come) or, without one, at the end of the input."""
        s = self.s
        parts: list[Part] = [Part("lit", "", True)]  # "" is still an (empty) argument
        buf: list[str] = []
        while True:
            if self.i >= len(s):
                if closer is None:
                    break
                raise ShellSyntaxError("no closing quote")
            c = s[self.i]
            if c == closer:
                self.i += 1
                break
            if c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in escapable:
                if s[self.i + 1] != "\n":
                    buf.append(s[self.i + 1])
                self.i += 2
            elif c in "$`":
                if buf:
                    parts.append(Part("lit", "".join(buf), True))
                    buf.clear()
                parts.append(self.dollar(quoted=True))
            else:
                buf.append(c)
                self.i += 1
        if buf:
            parts.append(Part("lit", "".join(buf), True))
        return parts

    def dollar(self, quoted: bool) -> Part:
        s = self.s
        if s[self.i] == "`":
            j = self.i + 1
            body: list[str] = []
            while j < len(s) and s[j] != "`":
                if s[j] == "\\" and j + 1 < len(s) and s[j + 1] in "$`\\":
                    body.append(s[j + 1])
                    j += 2
                    continue
                body.append(s[j])
                j += 1
            if j >= len(s):
                raise ShellSyntaxError("no closing quote")
            self.i = j + 1
            return Part("cmd", "".join(body), quoted)
        # s[self.i] == "$"
        nxt = s[self.i + 1] if self.i + 1 < len(s) else ""
        if s.startswith("$((", self.i):
            start = self.i
            end = self._matching(self.i + 3, depth=2)
            self.i = end + 1
            return Part("arith", s[start + 3 : end - 1], quoted)
        if nxt == "(":
            end = self._matching(self.i + 2, depth=1)
            text = s[self.i + 2 : end]
            self.i = end + 1
            return Part("cmd", text, quoted)
        if nxt == "{":
            end = s.find("}", self.i + 2)
            if end < 0:
                raise ShellSyntaxError("${: missing }")
            text = s[self.i + 2 : end]
            self.i = end + 1
            m = re.fullmatch(r"#?([A-Za-z_][A-Za-z0-9_]*|[0-9?#$!@*-])(:?[-=+?].*)?", text, re.S)
            if not m:
                raise ShellSyntaxError(f"${{{text}}}: bad substitution")
            return Part("var", text, quoted)
        if nxt and (nxt in "?#$!@*-" or nxt.isdigit()):
            self.i += 2
            return Part("var", nxt, quoted)
        m = NAME.match(s, self.i + 1)
        if m:
            self.i = m.end()
            return Part("var", m.group(0), quoted)
        self.i += 1
        return Part("lit", "$", quoted)

    def _matching(self, start: int, depth: int) -> int:
        """Index of the ``)`` closing a ``$(`` (or both of ``$((``), skipping quotes."""
        s = self.s
        j = start
        level = depth
        while j < len(s):
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "'":
                end = s.find("'", j + 1)
                if end < 0:
                    raise ShellSyntaxError("no closing quote")
                j = end + 1
                continue
            if c == '"':
                j += 1
                while j < len(s) and s[j] != '"':
                    j += 2 if s[j] == "\\" else 1
                j += 1
                continue
            if c == "(":
                level += 1
            elif c == ")":
                level -= 1
                if level == 0:
                    return j
            j += 1
        raise ShellSyntaxError("missing )")


# -- the parser ---------------------------------------------------------------
class Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def peek_word(self) -> str | None:
        t = self.peek()
        if t is not None and t.kind == "word":
            return t.value.literal()  # type: ignore[union-attr]
        return None

    def at_op(self, *ops: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "op" and t.value in ops

    def expect_word(self, word: str) -> None:
        if self.peek_word() != word:
            raise ShellSyntaxError(
                f"syntax error: {self._describe()} unexpected (expecting {word!r})"
            )
        self.i += 1

    def _describe(self) -> str:
        t = self.peek()
        if t is None:
            return "EOF"
        if t.kind == "op":
            return "newline" if t.value == "\n" else repr(t.value)
        if t.kind == "word":
            return repr(t.value.literal() or "word")  # type: ignore[union-attr]
        return repr(str(t.value))

    def skip_newlines(self) -> None:
        while self.at_op("\n"):
            self.i += 1

    def program(self) -> Sequence:
        seq = self.sequence(terminators=())
        if self.peek() is not None:
            raise ShellSyntaxError(f"syntax error: {self._describe()} unexpected")
        return seq

    def sequence(self, terminators: tuple[str, ...]) -> Sequence:
        seq = Sequence()
        while True:
            self.skip_newlines()
            t = self.peek()
            if t is None or self.at_op(")", ";;") or (self.peek_word() in terminators):
                return seq
            if self.peek_word() == "}" and "}" in terminators:
                return seq
            seq.items.append(self.and_or())
            if self.at_op(";", "&", "\n"):
                self.i += 1
                continue
            return seq

    def and_or(self) -> AndOr:
        node = AndOr(self.pipeline())
        while self.at_op("&&", "||"):
            op = self.toks[self.i].value
            self.i += 1
            self.skip_newlines()
            node.rest.append((str(op), self.pipeline()))
        return node

    def pipeline(self) -> Pipeline:
        negate = False
        if self.peek_word() == "!":
            negate = True
            self.i += 1
        cmds = [self.command()]
        while self.at_op("|"):
            self.i += 1
            self.skip_newlines()
            cmds.append(self.command())
        return Pipeline(cmds, negate)

    def _function_ahead(self) -> str | None:
        """``name ( )`` or ``function name``: the name of a function definition starting here."""
        kw = self.peek_word()
        if kw == "function":
            t = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
            name = t.value.literal() if t is not None and t.kind == "word" else None  # type: ignore[union-attr]
            if name and NAME.fullmatch(name):
                self.i += 2
                if self.at_op("(") and self.i + 1 < len(self.toks):
                    nxt = self.toks[self.i + 1]
                    if nxt.kind == "op" and nxt.value == ")":
                        self.i += 2
                return name
            return None
        if kw and NAME.fullmatch(kw) and kw not in _RESERVED and self.i + 2 < len(self.toks):
            a, b = self.toks[self.i + 1], self.toks[self.i + 2]
            if a.kind == "op" and a.value == "(" and b.kind == "op" and b.value == ")":
                self.i += 3
                return kw
        return None

    def command(self) -> object:
        fname = self._function_ahead()
        if fname is not None:
            self.skip_newlines()
            if self.peek() is None:
                raise ShellSyntaxError("syntax error: EOF unexpected (expecting function body)")
            return Function(fname, self.command())
        kw = self.peek_word()
        if self.at_op("("):
            self.i += 1
            body = self.sequence(terminators=())
            if not self.at_op(")"):
                raise ShellSyntaxError(
                    f"syntax error: {self._describe()} unexpected (expecting ')')"
                )
            self.i += 1
            node: object = Group(body, subshell=True)
        elif kw == "{":
            self.i += 1
            body = self.sequence(terminators=("}",))
            self.expect_word("}")
            node = Group(body, subshell=False)
        elif kw == "if":
            node = self.if_clause()
        elif kw == "for":
            node = self.for_clause()
        elif kw == "case":
            node = self.case_clause()
        elif kw in ("while", "until"):
            self.i += 1
            cond = self.sequence(terminators=("do",))
            self.expect_word("do")
            body = self.sequence(terminators=("done",))
            self.expect_word("done")
            node = While(cond, body, until=kw == "until")
        elif kw in _RESERVED or kw == "}":
            raise ShellSyntaxError(f"syntax error: '{kw}' unexpected")
        else:
            return self.simple()
        node.redirects.extend(self.redirects())  # type: ignore[attr-defined]
        return node

    def if_clause(self) -> If:
        self.expect_word("if")
        branches = []
        cond = self.sequence(terminators=("then",))
        self.expect_word("then")
        body = self.sequence(terminators=("elif", "else", "fi"))
        branches.append((cond, body))
        otherwise = None
        while True:
            kw = self.peek_word()
            if kw == "elif":
                self.i += 1
                cond = self.sequence(terminators=("then",))
                self.expect_word("then")
                body = self.sequence(terminators=("elif", "else", "fi"))
                branches.append((cond, body))
            elif kw == "else":
                self.i += 1
                otherwise = self.sequence(terminators=("fi",))
            else:
                self.expect_word("fi")
                return If(branches, otherwise)

    def for_clause(self) -> For:
        self.expect_word("for")
        t = self.peek()
        name = t.value.literal() if t is not None and t.kind == "word" else None  # type: ignore[union-attr]
        if not name or not NAME.fullmatch(name):
            raise ShellSyntaxError("syntax error: bad for loop variable")
        self.i += 1
        items: list[Word] | None = None
        self.skip_newlines()
        if self.peek_word() == "in":
            self.i += 1
            items = []
            while (t := self.peek()) is not None and t.kind == "word":
                items.append(t.value)  # type: ignore[arg-type]
                self.i += 1
        if self.at_op(";", "\n"):
            self.i += 1
        self.skip_newlines()
        self.expect_word("do")
        body = self.sequence(terminators=("done",))
        self.expect_word("done")
        return For(name, items, body)

    def case_clause(self) -> Case:
        self.expect_word("case")
        t = self.peek()
        if t is None or t.kind != "word":
            raise ShellSyntaxError(f"syntax error: {self._describe()} unexpected (expecting word)")
        word: Word = t.value  # type: ignore[assignment]
        self.i += 1
        self.skip_newlines()
        self.expect_word("in")
        items: list[tuple[list[Word], Sequence]] = []
        while True:
            self.skip_newlines()
            if self.peek_word() == "esac":
                self.i += 1
                return Case(word, items)
            if self.at_op("("):
                self.i += 1
            patterns: list[Word] = []
            while True:
                t = self.peek()
                if t is None or t.kind != "word":
                    raise ShellSyntaxError(f"syntax error: {self._describe()} unexpected")
                patterns.append(t.value)  # type: ignore[arg-type]
                self.i += 1
                if self.at_op("|"):
                    self.i += 1
                    continue
                break
            if not self.at_op(")"):
                raise ShellSyntaxError(
                    f"syntax error: {self._describe()} unexpected (expecting ')')"
                )
            self.i += 1
            body = self.sequence(terminators=("esac",))
            items.append((patterns, body))
            if self.at_op(";;"):
                self.i += 1
            elif self.peek_word() != "esac":
                raise ShellSyntaxError(
                    f"syntax error: {self._describe()} unexpected (expecting ';;')"
                )

    def redirects(self) -> list[Redirect]:
        out = []
        while True:
            r = self.redirect()
            if r is None:
                return out
            out.append(r)

    def redirect(self) -> Redirect | None:
        t = self.peek()
        fd = None
        if t is not None and t.kind == "io":
            fd = int(t.value)  # type: ignore[arg-type]
            self.i += 1
            t = self.peek()
        if t is not None and t.kind == "op" and t.value == "<<":
            self.i += 1
            doc = self.peek()
            if doc is None or doc.kind != "heredoc":
                raise ShellSyntaxError("syntax error: here document needs a delimiter")
            self.i += 1
            return Redirect(0 if fd is None else fd, "<<", doc.value)  # type: ignore[arg-type]
        if t is None or t.kind != "op" or t.value not in (">", ">>", "<", ">&", "<&", "&>"):
            if fd is not None:
                raise ShellSyntaxError("syntax error: bad redirection")
            return None
        op = str(t.value)
        self.i += 1
        target = self.peek()
        if target is None or target.kind != "word":
            raise ShellSyntaxError(f"syntax error: {self._describe()} unexpected")
        self.i += 1
        if fd is None:
            fd = 0 if op in ("<", "<&") else 1
        return Redirect(fd, op, target.value)  # type: ignore[arg-type]

    def simple(self) -> Simple:
        cmd = Simple()
        while True:
            r = self.redirect()
            if r is not None:
                cmd.redirects.append(r)
                continue
            t = self.peek()
            if t is None or t.kind != "word":
                break
            word: Word = t.value  # type: ignore[assignment]
            first = word.parts[0] if word.parts else None
            if (
                not cmd.words
                and first is not None
                and first.kind == "lit"
                and not first.quoted
                and "=" in first.text
                and NAME.fullmatch(first.text.split("=", 1)[0])
            ):
                name, rest = first.text.split("=", 1)
                value = Word([Part("lit", rest, True), *word.parts[1:]])
                cmd.assigns.append((name, value))
            else:
                cmd.words.append(word)
            self.i += 1
        if not cmd.words and not cmd.assigns and not cmd.redirects:
            raise ShellSyntaxError(f"syntax error: {self._describe()} unexpected")
        return cmd


def parse(text: str) -> Sequence:
    """Parse a whole command line; :class:`ShellSyntaxError` says what is wrong."""
    return Parser(Lexer(text).tokens()).program()
