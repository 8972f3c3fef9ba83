"""The CQL subset the sandbox understands: tokenizer, recursive-descent parser, evaluator.

Pure module: it knows nothing about the server or the state. Search routes turn each content
item into a plain mapping with the keys named in ``FIELDS`` (``type``, ``id``, ``space.key``,
``space.id``, ``title``, ``text``, ``labels``, ``ancestors``, ``parent``, ``container``,
``creator``, ``contributors``, ``created``, ``lastModified``) and call ``Query.matches``.

Grammar (keywords are case-insensitive)::

    query   := [or_expr] [ORDER BY sort ("," sort)*]
    or_expr := and_expr (OR and_expr)*
    and_expr:= not_expr (AND not_expr)*
    not_expr:= NOT not_expr | "(" or_expr ")" | clause
    clause  := FIELD op value | FIELD [NOT] IN "(" value ("," value)* ")"
    op      := "=" | "!=" | "~" | "!~" | ">" | ">=" | "<" | "<="
    value   := STRING | WORD | FUNC "(" [value ("," value)*] ")"
    sort    := FIELD [ASC | DESC]

Anything outside the subset raises ``CqlError`` naming the unsupported part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

__all__ = [
    "CONTENT_FIELDS",
    "USER_FIELDS",
    "Clause",
    "CqlError",
    "EvalContext",
    "Query",
    "parse",
    "text_matches",
]


class CqlError(ValueError):
    """The query is not valid CQL or uses something outside the supported subset."""


# ---------------------------------------------------------------- fields

EQ_OPS = frozenset({"=", "!=", "IN", "NOT IN"})
TEXT_OPS = frozenset({"~", "!~"})
DATE_OPS = frozenset({"=", "!=", ">", ">=", "<", "<="})


@dataclass(frozen=True)
class FieldSpec:
    key: str  # key looked up in the item mapping
    kind: str  # "str" (case-insensitive), "id", "text", "date", "user", "type"
    ops: frozenset[str]
    sortable: bool = False


CONTENT_TYPES = frozenset(
    {"page", "blogpost", "comment", "attachment", "folder", "whiteboard", "database", "embed"}
)

CONTENT_FIELDS: dict[str, FieldSpec] = {
    "type": FieldSpec("type", "type", EQ_OPS, sortable=True),
    "space": FieldSpec("space.key", "str", EQ_OPS, sortable=True),
    "space.key": FieldSpec("space.key", "str", EQ_OPS, sortable=True),
    "space.id": FieldSpec("space.id", "id", EQ_OPS),
    "title": FieldSpec("title", "str", EQ_OPS | TEXT_OPS, sortable=True),
    "text": FieldSpec("text", "text", TEXT_OPS),
    "sitesearch": FieldSpec("text", "text", TEXT_OPS),
    "label": FieldSpec("labels", "str", EQ_OPS),
    "ancestor": FieldSpec("ancestors", "id", EQ_OPS),
    "parent": FieldSpec("parent", "id", EQ_OPS),
    "container": FieldSpec("container", "id", EQ_OPS),
    "id": FieldSpec("id", "id", EQ_OPS, sortable=True),
    "content": FieldSpec("id", "id", EQ_OPS),
    "creator": FieldSpec("creator", "user", EQ_OPS, sortable=True),
    "contributor": FieldSpec("contributors", "user", EQ_OPS),
    "created": FieldSpec("created", "date", DATE_OPS, sortable=True),
    "lastmodified": FieldSpec("lastModified", "date", DATE_OPS, sortable=True),
}

USER_FIELDS: dict[str, FieldSpec] = {
    "user": FieldSpec("user.accountid", "user", EQ_OPS),
    "user.accountid": FieldSpec("user.accountid", "user", EQ_OPS),
    "user.fullname": FieldSpec("user.fullname", "str", EQ_OPS | TEXT_OPS, sortable=True),
    "type": FieldSpec("type", "str", EQ_OPS),
}

# ---------------------------------------------------------------- tokenizer

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "ORDER", "BY", "ASC", "DESC"})
_OPERATORS = ("!=", "!~", ">=", "<=", "=", "~", ">", "<")
_WORD_RE = re.compile(r"[A-Za-z0-9_.@:/*+\-]+")


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op", "(", ")", ",", "kw", "end"
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            tokens.append(Token(ch, ch, i))
            i += 1
        elif ch in "\"'":
            text, end = _read_string(source, i)
            tokens.append(Token("string", text, i))
            i = end
        elif op := next((o for o in _OPERATORS if source.startswith(o, i)), None):
            tokens.append(Token("op", op, i))
            i += len(op)
        else:
            m = _WORD_RE.match(source, i)
            if not m:
                raise CqlError(f"unexpected character {ch!r} at position {i}")
            word = m.group(0)
            kind = "kw" if word.upper() in KEYWORDS else "word"
            tokens.append(Token(kind, word.upper() if kind == "kw" else word, i))
            i = m.end()
    tokens.append(Token("end", "", n))
    return tokens


def _read_string(source: str, start: int) -> tuple[str, int]:
    quote = source[start]
    out: list[str] = []
    i = start + 1
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            if i + 1 >= len(source):
                break
            out.append(source[i + 1])
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise CqlError(f"unterminated string starting at position {start}")


# ---------------------------------------------------------------- values

_DATE_FORMATS = (
    ("%Y-%m-%d %H:%M", timedelta(minutes=1)),
    ("%Y/%m/%d %H:%M", timedelta(minutes=1)),
    ("%Y-%m-%d", timedelta(days=1)),
    ("%Y/%m/%d", timedelta(days=1)),
)
_OFFSET_RE = re.compile(r"\s*([+-]?)\s*(\d+)\s*([yMwdhm])")
_UNIT_DAYS = {"y": 365, "M": 30, "w": 7, "d": 1}
_DATE_FUNCS = frozenset(
    {
        "now",
        "startofday",
        "endofday",
        "startofweek",
        "endofweek",
        "startofmonth",
        "endofmonth",
        "startofyear",
        "endofyear",
    }
)
_FUNCS = _DATE_FUNCS | {"currentuser"}


@dataclass(frozen=True)
class Value:
    """A literal (``func`` is None) or a function call such as ``now("-7d")``."""

    text: str
    func: str | None = None
    args: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.func is None:
            return self.text
        return f"{self.func}({', '.join(repr(a) for a in self.args)})"


def parse_date(text: str) -> tuple[datetime, datetime]:
    """A date literal as the half-open interval it names (a day, or a minute)."""
    cleaned = text.strip()
    for fmt, width in _DATE_FORMATS:
        try:
            start = datetime.strptime(cleaned, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        return start, start + width
    raise CqlError(
        f'invalid date {text!r}: use "yyyy-MM-dd", "yyyy/MM/dd", "yyyy-MM-dd HH:mm" or now()'
    )


def parse_offset(text: str) -> timedelta:
    """``"-7d"``, ``"+1w"``, ``"-1w 2d"`` (a leading sign applies to every part without one)."""
    total = timedelta()
    pos = 0
    sign = 1
    stripped = text.strip()
    if not stripped:
        return total
    while pos < len(stripped):
        m = _OFFSET_RE.match(stripped, pos)
        if not m:
            raise CqlError(f'invalid date offset {text!r}: expected something like "-7d"')
        if m.group(1):
            sign = -1 if m.group(1) == "-" else 1
        amount, unit = int(m.group(2)), m.group(3)
        if unit in _UNIT_DAYS:
            delta = timedelta(days=amount * _UNIT_DAYS[unit])
        elif unit == "h":
            delta = timedelta(hours=amount)
        else:
            delta = timedelta(minutes=amount)
        total += sign * delta
        pos = m.end()
    return total


def _date_function(name: str, now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "now":
        return now
    if name == "startofday":
        return day
    if name == "endofday":
        return day + timedelta(days=1)
    if name == "startofweek":
        return day - timedelta(days=day.weekday())
    if name == "endofweek":
        return day - timedelta(days=day.weekday()) + timedelta(days=7)
    month = day.replace(day=1)
    if name == "startofmonth":
        return month
    if name == "endofmonth":
        return (month + timedelta(days=32)).replace(day=1)
    year = month.replace(month=1)
    if name == "startofyear":
        return year
    return year.replace(year=year.year + 1)  # endofyear


# ---------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Clause:
    field: str  # canonical (lower-case) field name
    op: str
    values: tuple[Value, ...]
    spec: FieldSpec


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" | "OR"
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node: TypeAlias = "Clause | BoolOp | Not"


@dataclass
class EvalContext:
    """What a query needs beyond the item: the clock and the caller."""

    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    current_user: str | None = None


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str, fields: Mapping[str, FieldSpec]) -> None:
        self.tokens = tokenize(source)
        self.pos = 0
        self.fields = fields

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at_kw(self, *words: str) -> bool:
        return self.tok.kind == "kw" and self.tok.text in words

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            found = _describe(self.tok)
            raise CqlError(f"expected {what} at position {self.tok.pos}, found {found}")
        return self.take()

    def query(self) -> tuple[Node, tuple[tuple[str, bool], ...]]:
        where: Node | None = None
        if not self.at_kw("ORDER") and self.tok.kind != "end":
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.at_kw("ORDER"):
            self.take()
            if not self.at_kw("BY"):
                raise CqlError(f"expected BY after ORDER at position {self.tok.pos}")
            self.take()
            order.append(self.sort_item())
            while self.tok.kind == ",":
                self.take()
                order.append(self.sort_item())
        if self.tok.kind != "end":
            raise CqlError(f"unexpected {_describe(self.tok)} at position {self.tok.pos}")
        if where is None:
            raise CqlError("the CQL query has no condition")
        return where, tuple(order)

    def sort_item(self) -> tuple[str, bool]:
        tok = self.expect("word", "a field name after ORDER BY")
        name = tok.text.lower()
        spec = self.fields.get(name)
        if spec is None or not spec.sortable:
            raise CqlError(f"ORDER BY {tok.text} is not supported")
        desc = False
        if self.at_kw("ASC", "DESC"):
            desc = self.take().text == "DESC"
        return name, desc

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.at_kw("OR"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.at_kw("AND"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def not_expr(self) -> Node:
        if self.at_kw("NOT"):
            self.take()
            return Not(self.not_expr())
        if self.tok.kind == "(":
            self.take()
            node = self.or_expr()
            self.expect(")", "')'")
            return node
        return self.clause()

    def clause(self) -> Clause:
        tok = self.expect("word", "a field name")
        name = tok.text.lower()
        spec = self.fields.get(name)
        if spec is None:
            raise CqlError(f"the CQL field '{tok.text}' is not supported")
        op = self.operator()
        if op not in spec.ops:
            raise CqlError(f"the operator '{op}' is not supported for the field '{tok.text}'")
        if op in ("IN", "NOT IN"):
            self.expect("(", f"'(' after {op}")
            values = [self.value()]
            while self.tok.kind == ",":
                self.take()
                values.append(self.value())
            self.expect(")", "')' to close the list")
        else:
            values = [self.value()]
        clause = Clause(name, op, tuple(values), spec)
        _check_values(clause, tok.text)
        return clause

    def operator(self) -> str:
        if self.tok.kind == "op":
            return self.take().text
        if self.at_kw("IN"):
            self.take()
            return "IN"
        if self.at_kw("NOT"):
            self.take()
            if not self.at_kw("IN"):
                raise CqlError(f"expected IN after NOT at position {self.tok.pos}")
            self.take()
            return "NOT IN"
        found = _describe(self.tok)
        raise CqlError(f"expected an operator at position {self.tok.pos}, found {found}")

    def value(self) -> Value:
        tok = self.tok
        if tok.kind == "string":
            self.take()
            return Value(tok.text)
        if tok.kind != "word":
            raise CqlError(f"expected a value at position {tok.pos}, found {_describe(tok)}")
        self.take()
        if self.tok.kind != "(":
            return Value(tok.text)
        name = tok.text.lower()
        if name not in _FUNCS:
            raise CqlError(f"the CQL function '{tok.text}()' is not supported")
        self.take()
        args: list[str] = []
        while self.tok.kind != ")":
            arg = self.take()
            if arg.kind not in ("string", "word"):
                raise CqlError(f"unexpected {_describe(arg)} in {tok.text}() at position {arg.pos}")
            args.append(arg.text)
            if self.tok.kind == ",":
                self.take()
        self.take()
        return Value(tok.text, name, tuple(args))


def _describe(tok: Token) -> str:
    return "the end of the query" if tok.kind == "end" else repr(tok.text)


def _check_values(clause: Clause, field_name: str) -> None:
    """Reject values that can never make sense for the field, at parse time."""
    for value in clause.values:
        kind = clause.spec.kind
        if value.func is not None:
            ok = (kind == "date" and value.func in _DATE_FUNCS) or (
                kind == "user" and value.func == "currentuser"
            )
            if not ok:
                raise CqlError(f"the function '{value.text}()' cannot be used with '{field_name}'")
            if value.func in _DATE_FUNCS:
                if len(value.args) > 1:
                    raise CqlError(f"{value.text}() takes at most one argument")
                parse_offset(value.args[0] if value.args else "")
        elif kind == "date":
            parse_date(value.text)
        elif kind == "type" and value.text.lower() not in CONTENT_TYPES:
            raise CqlError(f"the content type '{value.text}' is not supported")
        elif kind == "text" or clause.op in TEXT_OPS:
            _terms(value.text)


# ---------------------------------------------------------------- text matching

_QUERY_WORD_RE = re.compile(r"\*?\w+\*?|\*")
_TEXT_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # lower-case; a phrase has several
    prefix: bool  # the last word ends with '*'


def _words_of(query: str) -> list[tuple[str, bool]]:
    out = []
    for raw in _QUERY_WORD_RE.findall(query):
        if raw.startswith("*"):
            raise CqlError(f"a leading wildcard is not supported: {raw!r}")
        out.append((raw.rstrip("*").lower(), raw.endswith("*")))
    return out


def _terms(query: str) -> list[Term]:
    """Words must all appear; a double-quoted part inside the value is a phrase."""
    terms: list[Term] = []
    for i, chunk in enumerate(query.split('"')):
        # A quoted part is one phrase; elsewhere each blank-separated token is a term, and a
        # token joined by punctuation ("1.1", "apt-get") is a phrase of its words.
        for token in [chunk] if i % 2 == 1 else chunk.split():
            words = _words_of(token)
            if not words:
                continue
            if any(p for _, p in words[:-1]):
                raise CqlError("a wildcard is only supported at the end of a word or phrase")
            terms.append(Term(tuple(w for w, _ in words), words[-1][1]))
    if not terms:
        raise CqlError(f"the search text {query!r} has no words")
    return terms


def _word_eq(term_word: str, word: str, prefix: bool) -> bool:
    return word.startswith(term_word) if prefix else word == term_word


def _term_in(term: Term, words: Sequence[str]) -> bool:
    n = len(term.words)
    for i in range(len(words) - n + 1):
        if all(words[i + k] == term.words[k] for k in range(n - 1)) and _word_eq(
            term.words[-1], words[i + n - 1], term.prefix
        ):
            return True
    return False


def text_matches(query: str, text: str) -> bool:
    """Case-insensitive word/phrase contains, with trailing ``*`` wildcards."""
    words = [w.lower() for w in _TEXT_WORD_RE.findall(text)]
    return all(_term_in(t, words) for t in _terms(query))


def term_words(query: str) -> list[tuple[str, bool]]:
    """The words of a ``~`` value (for highlighting): (word, is_prefix)."""
    return [
        (w, t.prefix and i == len(t.words) - 1)
        for t in _terms(query)
        for i, w in enumerate(t.words)
    ]


# ---------------------------------------------------------------- evaluation


def _as_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple, set, frozenset)):
        return list(raw)
    return [raw]


def _resolve_value(value: Value, spec: FieldSpec, ctx: EvalContext) -> str | None:
    if value.func == "currentuser":
        return ctx.current_user
    return value.text


def _date_interval(value: Value, ctx: EvalContext) -> tuple[datetime, datetime]:
    if value.func is None:
        return parse_date(value.text)
    base = _date_function(value.func, ctx.now)
    point = base + parse_offset(value.args[0] if value.args else "")
    return point, point + timedelta(microseconds=1)


def _to_datetime(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    text = str(raw).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _eq(spec: FieldSpec, have: Any, want: str | None) -> bool:
    if want is None or have is None:
        return False
    if spec.kind in ("str", "type"):
        return str(have).lower() == want.lower()
    return str(have) == want


def _eval_clause(clause: Clause, item: Mapping[str, Any], ctx: EvalContext) -> bool:
    spec, op = clause.spec, clause.op
    raw = item.get(spec.key)
    if spec.kind == "date":
        when = _to_datetime(raw)
        if when is None:
            return False
        start, end = _date_interval(clause.values[0], ctx)
        return {
            "=": start <= when < end,
            "!=": not (start <= when < end),
            ">": when >= end,
            ">=": when >= start,
            "<": when < start,
            "<=": when < end,
        }[op]
    if op in TEXT_OPS:
        found = any(text_matches(clause.values[0].text, str(v)) for v in _as_list(raw))
        return found if op == "~" else not found
    haves = _as_list(raw)
    wants = [_resolve_value(v, spec, ctx) for v in clause.values]
    hit = any(_eq(spec, h, w) for h in haves for w in wants)
    return hit if op in ("=", "IN") else not hit


def _evaluate(node: Node, item: Mapping[str, Any], ctx: EvalContext) -> bool:
    if isinstance(node, Clause):
        return _eval_clause(node, item, ctx)
    if isinstance(node, Not):
        return not _evaluate(node.part, item, ctx)
    if node.op == "AND":
        return all(_evaluate(p, item, ctx) for p in node.parts)
    return any(_evaluate(p, item, ctx) for p in node.parts)


class _Desc:
    """Wraps a sort key so that it orders the other way round."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.key == other.key

    __hash__ = None  # type: ignore[assignment]


def _id_key(raw: Any) -> tuple[int, int, str]:
    text = str(raw or "")
    digits = text.removeprefix("att")
    return (0, int(digits), text) if digits.isdigit() else (1, 0, text)


def _sort_value(spec: FieldSpec, raw: Any) -> Any:
    if spec.kind == "date":
        when = _to_datetime(raw)
        return (0, when.timestamp()) if when else (1, 0.0)
    if spec.kind == "id":
        return _id_key(raw)
    return (0, str(raw).lower()) if raw is not None else (1, "")


@dataclass(frozen=True)
class Query:
    where: Node
    order: tuple[tuple[str, bool], ...] = ()
    fields: Mapping[str, FieldSpec] = field(default_factory=lambda: CONTENT_FIELDS, repr=False)

    def matches(self, item: Mapping[str, Any], ctx: EvalContext | None = None) -> bool:
        return _evaluate(self.where, item, ctx or EvalContext())

    def sort_key(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        """Key for ``sorted``: the ORDER BY fields, then the id (creation order)."""
        parts: list[Any] = []
        for name, desc in self.order:
            spec = self.fields[name]
            value = _sort_value(spec, item.get(spec.key))
            parts.append(_Desc(value) if desc else value)
        parts.append(_id_key(item.get("id")))
        return tuple(parts)

    def clauses(self) -> Iterable[tuple[Clause, bool]]:
        """Every clause with whether it sits under an odd number of NOTs."""
        stack: list[tuple[Node, bool]] = [(self.where, False)]
        while stack:
            node, negated = stack.pop()
            if isinstance(node, Clause):
                yield node, negated
            elif isinstance(node, Not):
                stack.append((node.part, not negated))
            else:
                stack.extend((p, negated) for p in reversed(node.parts))

    def search_words(self) -> list[tuple[str, bool]]:
        """The words of the positive ``~`` clauses, for excerpts and highlighting."""
        out: list[tuple[str, bool]] = []
        for clause, negated in self.clauses():
            positive = (clause.op == "~") != negated
            if clause.op in TEXT_OPS and positive:
                out.extend(term_words(clause.values[0].text))
        return out


def parse(source: str, fields: Mapping[str, FieldSpec] | None = None) -> Query:
    """Parse CQL; raises ``CqlError`` with a message naming what is wrong or unsupported."""
    if source is None or not source.strip():
        raise CqlError("the CQL query is empty")
    table = CONTENT_FIELDS if fields is None else fields
    where, order = _Parser(source, table).query()
    return Query(where, order, table)
