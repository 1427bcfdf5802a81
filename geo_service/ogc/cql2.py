"""CQL2 text, basic level (OGC 21-065r2, classes ``basic-cql2`` and ``cql2-text``), for the ``filter`` parameter of
``/collections/{id}/items`` (OGC API – Features Part 3, OGC 19-079r2): a hand-written recursive-descent parser
into a small tree, printed back to canonical text for the links, and evaluated over a collection's columns with
numpy.

What it reads (keywords in any case, spaces anywhere between tokens)::

    filter     = or
    or         = and { "OR" and }
    and        = not { "AND" not }
    not        = { "NOT" } primary
    primary    = "(" or ")" | comparison | null-test | "TRUE" | "FALSE"
    comparison = property op literal | literal op property         op: = <> < > <= >=
    null-test  = property "IS" ["NOT"] "NULL"
    property   = name | '"' name '"'                               a queryable of the collection
    literal    = 'text' ('' or \\' for a quote) | number | TRUE | FALSE | DATE('2024-01-31')
               | TIMESTAMP('2024-01-31T12:00:00Z')

so NOT binds tighter than AND, which binds tighter than OR, as the standard's grammar says. Two things are
wider than the standard's grammar, both unambiguous: ``NOT NOT x`` (the grammar wants ``NOT (NOT x)``), and a
literal on the left of a comparison (``10000 < population``, read as ``population > 10000``). Anything of the
other CQL2 classes (LIKE, BETWEEN, IN, functions, CASEI, spatial, temporal and array operators, arithmetic,
property-property comparisons) is a 400 saying so.

The rules, each a 400 naming the property or the place in the text (positions count characters from 1):

* a property the collection's queryables do not list (the standard's /req/filter/filter-param: unknown
  queryable, 400); names are case-sensitive, as property names are;
* a literal of another type than the property's: a number for a text field (``departement = 80``: write
  ``'80'``), text for a number, anything but TRUE or FALSE for a boolean. No field holds a date, so a DATE or
  TIMESTAMP literal is always such a mismatch;
* list fields (comma-separated text: ``postal_codes``, ``axes``, ``action_types``...) follow the simple filters'
  rule: ``postal_codes = '80090'`` holds when one element is ``80090`` and ``<>`` is its negation (no element
  is); ordering comparisons (``<`` ...) on a list are refused, as they have no meaning there. Empty text is an
  empty list: no element equals anything;
* text is compared by code points, case- and accent-sensitive; numbers as numbers (``population = 1e4`` is
  ``population = 10000``); FALSE < TRUE;
* a null (missing) value makes a comparison unknown, and unknown is not selected, with SQL's three-valued logic
  (``NOT (x = 1)`` does not select a feature whose ``x`` is null; ``x IS NULL`` does);
* ``filter-lang`` is ``cql2-text`` (the default). ``cql2-json`` is refused (400 naming it). ``cql-text``, the
  name of the text encoding in the drafts before CQL2, is read as ``cql2-text`` with one difference, booleans
  may be written 1 and 0: it is what GDAL's OAPIF driver sends (up to 3.12 at least, which knows no CQL2) when
  ``OGR_OAPIF_ALLOW_CQL_TEXT=YES`` is set. The API definition does not list it, or GDAL would send every
  filter so, LIKE included, and get 400s where it now filters on its side;
* limits against abuse: at most ``MAX_LENGTH`` characters and ``MAX_DEPTH`` levels of nesting (each parenthesis
  and each NOT is one): beyond either, a 400 that says which, never a RecursionError. Control characters (NUL...)
  other than tabs and line breaks are refused wherever they are.
"""

from __future__ import annotations

import math
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np

from geo_service.errors import BadRequestError

if TYPE_CHECKING:  # pragma: no cover
    from geo_service.ogc.collections import Table

MAX_LENGTH = 4_000
MAX_DEPTH = 50
LANGUAGES = ("cql2-text",)
# The name of CQL's text encoding in the drafts before CQL2, which GDAL's OAPIF driver (up to 3.12 at least) still
# sends when told to (OGR_OAPIF_ALLOW_CQL_TEXT=YES): read as cql2-text, its booleans written 1 and 0 as GDAL
# writes them. Not listed in the API definition: GDAL would then send every filter so, LIKE included.
LEGACY = "cql-text"
COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")
KEYWORDS = ("AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "DATE", "TIMESTAMP")
# words of the other CQL2 classes, named in the refusal rather than read as unknown properties
OTHER_CLASSES = ("LIKE", "BETWEEN", "IN", "CASEI", "ACCENTI", "INTERVAL")
SUPPORTED = "=, <>, <, >, <=, >=, IS [NOT] NULL, AND, OR, NOT and parentheses"

LiteralKind = Literal["string", "number", "boolean", "date", "timestamp"]


class FilterError(BadRequestError):
    """A filter that cannot be read or applied: a 400, its sentence naming the place or the property."""

    def __init__(self, message: str, position: int | None = None) -> None:
        where = "" if position is None else f" at position {position}"
        super().__init__(f"filter{where}: {message}")


# --- the tree -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Property:
    name: str
    at: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Value:
    """A literal: text (str), a number (float), a boolean (bool), a date or a timestamp (their text)."""

    kind: LiteralKind
    value: str | float | bool
    at: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Property
    right: Value


@dataclass(frozen=True)
class IsNull:
    subject: Property
    negated: bool = False


@dataclass(frozen=True)
class Not:
    operand: Expression


@dataclass(frozen=True)
class And:
    operands: tuple[Expression, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expression, ...]


Expression = Union[Comparison, IsNull, Not, And, Or, Value]  # noqa: UP007 (a runtime alias, for isinstance too)
MIRRORED = {"=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


# --- printing -----------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _property_text(prop: Property) -> str:
    name = prop.name
    plain = name and _starts_name(name[0]) and all(_continues_name(char) for char in name)
    if plain and name.upper() not in (*KEYWORDS, *OTHER_CLASSES):
        return name
    return f'"{prop.name}"'


def _value_text(value: Value) -> str:
    if value.kind == "string":
        return "'" + str(value.value).replace("'", "''") + "'"
    if value.kind == "number":
        return _number(float(value.value))
    if value.kind == "boolean":
        return "TRUE" if value.value else "FALSE"
    return f"{value.kind.upper()}('{value.value}')"


def to_text(expression: Expression) -> str:
    """Canonical CQL2 text, with the fewest parentheses that keep the same tree (what the links carry)."""
    if isinstance(expression, Value):
        return _value_text(expression)
    if isinstance(expression, Comparison):
        return f"{_property_text(expression.left)} {expression.op} {_value_text(expression.right)}"
    if isinstance(expression, IsNull):
        return f"{_property_text(expression.subject)} IS {'NOT ' if expression.negated else ''}NULL"
    if isinstance(expression, Not):
        inner = to_text(expression.operand)
        return f"NOT ({inner})" if isinstance(expression.operand, And | Or) else f"NOT {inner}"
    word = " AND " if isinstance(expression, And) else " OR "
    # a child of the same kind is bracketed too: the parser makes one flat node of a chain
    return word.join(
        f"({to_text(part)})" if isinstance(part, And | Or) else to_text(part) for part in expression.operands
    )


# --- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: Literal["(", ")", "op", "string", "number", "name", "quoted", "other", "end"]
    text: str  # the token as written (a string's or quoted name's content, unescaped)
    at: int  # 1-based position of its first character

    @property
    def word(self) -> str | None:
        """The keyword this token is (upper case), if it is an unquoted name."""
        return self.text.upper() if self.kind == "name" else None

    def shown(self) -> str:
        if self.kind == "end":
            return "the end of the filter"
        if self.kind == "string":
            return f"the text {_short(self.text)!r}"
        if self.kind == "quoted":
            return f'"{_short(self.text)}"'
        return repr(_short(self.text))


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:40]}…"


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ALLOWED_CONTROLS = "\t\n\r"


def _starts_name(char: str) -> bool:
    return char in "_:" or ("A" <= char <= "Z") or ("a" <= char <= "z") or (char > "\x7f" and char.isalpha())


def _continues_name(char: str) -> bool:
    if _starts_name(char) or "0" <= char <= "9" or char == ".":
        return True
    return char > "\x7f" and unicodedata.category(char)[0] == "M"  # combining marks


def _describe(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X})" if not char.isprintable() else repr(char)


def tokens(text: str) -> list[Token]:
    found: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in " \t\n\r":
            i += 1
        elif char in "()":
            found.append(Token(char, char, i + 1))  # type: ignore[arg-type]
            i += 1
        elif char in "<>=":
            two = text[i : i + 2]
            op = two if two in ("<>", "<=", ">=") else char
            found.append(Token("op", op, i + 1))
            i += len(op)
        elif char == "!" and text[i : i + 2] == "!=":
            raise FilterError("'!=' is not CQL2: write '<>' for 'not equal'", i + 1)
        elif char in ",[]*/^" or (char in "+-" and not _NUMBER.match(text, i)):
            # never right in basic CQL2, but a token: the parser then says what was expected there, or names
            # the function (S_INTERSECTS(...)) or array of another class, rather than this character alone
            found.append(Token("other", char, i + 1))
            i += 1
        elif char in "'\"":
            content, end = _quoted(text, i)
            found.append(Token("string" if char == "'" else "quoted", content, i + 1))
            i = end
        elif (match := _NUMBER.match(text, i)) is not None and (char not in "+-" or match.end() > i + 1):
            found.append(Token("number", match.group(), i + 1))
            i = match.end()
            if i < n and _continues_name(text[i]):
                raise FilterError(f"unexpected {_describe(text[i])} right after the number {match.group()!r}", i + 1)
        elif _starts_name(char):
            start = i
            while i < n and _continues_name(text[i]):
                i += 1
            found.append(Token("name", text[start:i], start + 1))
        else:
            raise FilterError(f"unexpected character {_describe(char)}", i + 1)
    found.append(Token("end", "", n + 1))
    return found


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The content of a 'string' (quotes doubled or backslashed inside) or a "name", and the index after it."""
    quote = text[start]
    parts: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'":
                parts.append("'")
                i += 2
                continue
            if quote == '"' and not parts:
                raise FilterError('empty property name ""', start + 1)
            return "".join(parts), i + 1
        if quote == "'" and char == "\\" and text[i + 1 : i + 2] == "'":
            parts.append("'")
            i += 2
            continue
        if char < " " and char not in _ALLOWED_CONTROLS:
            raise FilterError(f"control character {_describe(char)} inside a quoted text", i + 1)
        parts.append(char)
        i += 1
    what = "text" if quote == "'" else "property name"
    raise FilterError(f"unterminated {what}: the quote {quote} opened here is never closed", start + 1)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?Z")


class _Parser:
    def __init__(self, text: str, queryables: Sequence[str]) -> None:
        self.tokens = tokens(text)
        self.index = 0
        self.queryables = queryables
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def next(self) -> Token:
        """The token after the current one (the end again at the end)."""
        return self.tokens[min(self.index + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> FilterError:
        token = token or self.token
        function = token.kind == "name" and self.next().kind == "(" and token.word not in ("DATE", "TIMESTAMP")
        if token.word in OTHER_CLASSES or function:
            return FilterError(f"{token.text} is not supported: this API reads basic CQL2 ({SUPPORTED})", token.at)
        return FilterError(f"expected {expected}, found {token.shown()}", token.at)

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"nested more than {MAX_DEPTH} levels deep (parentheses and NOT)", token.at)

    def parse(self) -> Expression:
        if self.token.kind == "end":
            raise FilterError("the filter is empty")
        expression = self.disjunction()
        if self.token.kind != "end":
            expected = "AND, OR or the end of the filter"
            if self.token.kind == ")":
                raise FilterError("this ')' closes no '('", self.token.at)
            raise self.fail(expected)
        return expression

    def disjunction(self) -> Expression:
        parts = [self.conjunction()]
        while self.token.word == "OR":
            self.advance()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Expression:
        parts = [self.negation()]
        while self.token.word == "AND":
            self.advance()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self) -> Expression:
        count, saved = 0, self.depth
        while self.token.word == "NOT":
            self.nest(self.advance())
            count += 1
        expression = self.primary()
        for _ in range(count):
            expression = Not(expression)
        self.depth = saved
        return expression

    def primary(self) -> Expression:
        token = self.token
        if token.kind == "(":
            self.nest(self.advance())
            inner = self.disjunction()
            if self.token.kind != ")":
                if self.token.kind == "end":
                    raise FilterError("the '(' opened here is never closed", token.at)
                raise self.fail("AND, OR or ')'")
            self.advance()
            self.depth -= 1
            return inner
        left = self.operand("a property, a literal, NOT or '('")
        following = self.token
        if following.kind == "op":
            self.advance()
            right = self.operand("a literal" if isinstance(left, Property) else "a property")
            return self.comparison(left, following, right)
        if following.word == "IS":
            self.advance()
            negated = self.token.word == "NOT"
            if negated:
                self.advance()
            if self.token.word != "NULL":
                raise self.fail("NULL" if negated else "NOT or NULL")
            self.advance()
            if not isinstance(left, Property):
                raise FilterError("IS NULL applies to a property, not to a literal", left.at)
            return IsNull(left, negated)
        if isinstance(left, Value) and left.kind == "boolean":
            return left  # TRUE or FALSE alone: a predicate that always or never holds
        after = self.next()
        if following.word == "NOT" and after.word in OTHER_CLASSES:
            raise FilterError(f"NOT {after.text} is not supported: this API reads basic CQL2 ({SUPPORTED})", after.at)
        raise self.fail("a comparison operator (=, <>, <, >, <=, >=) or IS")

    def comparison(self, left: Property | Value, op: Token, right: Property | Value) -> Comparison:
        if isinstance(left, Property) and isinstance(right, Value):
            return Comparison(op.text, left, right)
        if isinstance(left, Value) and isinstance(right, Property):
            return Comparison(MIRRORED[op.text], right, left)
        both = "two properties" if isinstance(left, Property) else "two literals"
        raise FilterError(f"{op.text} compares {both}: basic CQL2 compares a property with a literal", op.at)

    def operand(self, expected: str) -> Property | Value:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Value("string", token.text, token.at)
        if token.kind == "number":
            self.advance()
            number = float(token.text)
            if not math.isfinite(number):
                raise FilterError(f"the number {_short(token.text)!r} is too large", token.at)
            return Value("number", number, token.at)
        if token.kind == "quoted":
            self.advance()
            return self.property(token)
        if token.kind == "name":
            word = token.word
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Value("boolean", word == "TRUE", token.at)
            if word in ("DATE", "TIMESTAMP") and self.next().kind == "(":
                return self.instant(word)
            if word in KEYWORDS or word in OTHER_CLASSES or self.next().kind == "(":
                raise self.fail(expected)
            self.advance()
            return self.property(token)
        raise self.fail(expected)

    def property(self, token: Token) -> Property:
        if token.text not in self.queryables:
            listed = ", ".join(self.queryables)
            raise FilterError(f"unknown property {_short(token.text)!r}: the queryables here are {listed}", token.at)
        return Property(token.text, token.at)

    def instant(self, word: str) -> Value:
        start = self.advance()
        self.advance()  # the '('
        text = self.token
        if text.kind != "string":
            raise self.fail(f"the {word.lower()} in quotes")
        self.advance()
        if self.token.kind != ")":
            raise self.fail("')'")
        self.advance()
        try:
            if word == "DATE":
                if not _DATE.fullmatch(text.text):
                    raise ValueError
                date.fromisoformat(text.text)
            else:
                match = _TIMESTAMP.fullmatch(text.text)
                if match is None:
                    raise ValueError
                datetime.fromisoformat(f"{match[1]}T{match[2]}:{match[3]}:{min(int(match[4]), 59):02d}+00:00")
        except ValueError:
            shape = "YYYY-MM-DD" if word == "DATE" else "YYYY-MM-DDThh:mm:ss[.fff]Z"
            raise FilterError(f"{word}({text.text[:40]!r}) is not a valid {word.lower()} ({shape})", text.at) from None
        return Value("date" if word == "DATE" else "timestamp", text.text, start.at)


def parse(text: str, queryables: Sequence[str]) -> Expression:
    """The filter's tree; ``queryables``: the property names it may use. A FilterError (400) otherwise."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is {len(text)} characters long: at most {MAX_LENGTH}")
    if not text.strip():
        raise FilterError("the filter is empty")
    return _Parser(text, queryables).parse()


def read_language(text: str | None) -> str:
    chosen = "cql2-text" if text is None else text.strip().lower()
    if chosen not in (*LANGUAGES, LEGACY):
        raise BadRequestError(f"filter-lang={_short(text or '')!r}: this API reads cql2-text only (not cql2-json)")
    return chosen


@dataclass(frozen=True)
class Filter:
    """A ``filter`` parameter as read: its tree, its text as given and its language."""

    expression: Expression
    text: str
    language: str = "cql2-text"

    def link_text(self) -> str:
        """The filter as links carry it: re-printed from its tree, unless that made it longer than the limit
        (spaces added around operators): then as given, which was read within it. Either reads back the same."""
        printed = to_text(self.expression)
        return printed if len(printed) <= MAX_LENGTH else self.text


def read(text: str, language: str | None, queryables: Sequence[str]) -> Filter:
    """``filter`` and ``filter-lang`` read: syntax and property names (the types are checked on the table)."""
    chosen = read_language(language)
    return Filter(parse(text, queryables), text, chosen)


# --- evaluating ---------------------------------------------------------------------------------------------------

Truth = tuple[np.ndarray, np.ndarray]  # (holds, fails); neither where the result is unknown (a null value)
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_KIND_NAMES = {
    "string": "text",
    "integer": "a number",
    "number": "a number",
    "boolean": "a boolean",
    "list": "a comma-separated list",
}
_LITERAL_NAMES = {
    "string": "the text",
    "number": "the number",
    "boolean": "the boolean",
    "date": "the date",
    "timestamp": "the timestamp",
}
_EXAMPLES = {"string": "'80'", "integer": "10000", "number": "10000", "boolean": "TRUE or FALSE", "list": "'80090'"}


def check(expression: Expression, table: Table, language: str = "cql2-text") -> None:
    """The type rules (see the module), before any work: a FilterError naming the first comparison broken."""
    for node in _walk(expression):
        if not isinstance(node, Comparison):
            continue
        info = table.fields[node.left.name]
        literal = node.right
        wanted = {"string": "string", "list": "string", "integer": "number", "number": "number"}.get(
            info.kind, info.kind
        )
        gdal_boolean = language == LEGACY and info.kind == "boolean" and literal.value in (0, 1)
        if literal.kind != wanted and not gdal_boolean:
            raise FilterError(
                f"{node.left.name} is {_KIND_NAMES[info.kind]}, compared with {_LITERAL_NAMES[literal.kind]} "
                f"{_value_text(literal)}: write a literal like {_EXAMPLES[info.kind]}",
                literal.at,
            )
        if info.kind == "list" and node.op not in ("=", "<>"):
            raise FilterError(
                f"{node.left.name} is a comma-separated list: it takes = (one element equals) and <> only, "
                f"not {node.op}",
                node.left.at,
            )


def _walk(expression: Expression) -> Iterable[Expression]:
    stack = [expression]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Not):
            stack.append(node.operand)
        elif isinstance(node, And | Or):
            stack.extend(node.operands)


def evaluate(chosen: Filter, table: Table) -> np.ndarray:
    """The rows the filter selects (a boolean mask in table order): those where it holds, not where unknown."""
    check(chosen.expression, table, chosen.language)
    return _truth(chosen.expression, table)[0]


def _truth(expression: Expression, table: Table) -> Truth:
    size = len(table)
    if isinstance(expression, Value):  # TRUE or FALSE alone
        holds = np.full(size, bool(expression.value))
        return holds, ~holds
    if isinstance(expression, Not):
        holds, fails = _truth(expression.operand, table)
        return fails, holds
    if isinstance(expression, And | Or):
        parts = [_truth(part, table) for part in expression.operands]
        if isinstance(expression, And):
            return np.logical_and.reduce([p[0] for p in parts]), np.logical_or.reduce([p[1] for p in parts])
        return np.logical_or.reduce([p[0] for p in parts]), np.logical_and.reduce([p[1] for p in parts])
    if isinstance(expression, IsNull):
        missing = table.column_array(expression.subject.name)[1]
        return (~missing, missing) if expression.negated else (missing, ~missing)
    values, missing = table.column_array(expression.left.name)
    kind = table.fields[expression.left.name].kind
    literal = expression.right.value
    if kind == "list":
        equal = np.fromiter((literal in elements for elements in values), dtype=bool, count=size)
        result = equal if expression.op == "=" else ~equal
    else:
        result = np.asarray(_OPS[expression.op](values, literal), dtype=bool)
    return result & ~missing, ~result & ~missing


def column_array(kind: str, values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """A column as numpy can compare it, and where it is null: numbers as floats, booleans as booleans, text as
    text (nulls as empty text: masked), lists as sets of their elements."""
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    if kind in ("integer", "number"):
        array = np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    elif kind == "boolean":
        array = np.array([bool(v) for v in values], dtype=bool)
    elif kind == "list":
        array = np.empty(len(values), dtype=object)
        array[:] = [frozenset(v.split(",")) if v else frozenset() for v in values]
    else:
        array = np.array(["" if v is None else str(v) for v in values], dtype=object)
    return array, missing
