"""The OneRoster 1.2 `filter` query parameter: a pure parser from text to predicates.

Grammar (the OneRoster 1.2 REST binding, with our extensions marked *)::

    filter    := predicate ( logical predicate )*       * a chain, all joined by the same operator
    logical   := whitespace ( "AND" | "OR" | "and"* | "or"* ) whitespace
    predicate := field whitespace? operator whitespace? value
    field     := name ( "." name )*                     a dotted name selects a nested field
    name      := [A-Za-z][A-Za-z0-9_]*
    operator  := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~"
    value     := "'" ( [^'] | "''" )* "'"                * a doubled quote is a literal quote
               | '"' ( [^"] | '""' )* '"'               * double-quoted values, as some clients send

The spec has no parentheses, so a filter mixing AND with OR is refused as ambiguous.
"""

import re
from dataclasses import dataclass
from typing import Literal, cast

Operator = Literal["=", "!=", ">", ">=", "<", "<=", "~"]

MAX_LENGTH = 4000
MAX_PREDICATES = 20

_OPERATORS: frozenset[str] = frozenset({"=", "!=", ">", ">=", "<", "<=", "~"})
_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_FIELD = re.compile(rf"{_NAME}(?:\.{_NAME})*", re.ASCII)
_FIELD_CANDIDATE = re.compile(r"[^\s=!<>~'\"]+", re.ASCII)
_OPERATOR_CANDIDATE = re.compile(r"[=!<>~]+")
_SPACE = re.compile(r"\s*", re.ASCII)
_LOGICAL = re.compile(r"\s+(AND|OR|and|or)(?=\s|$)", re.ASCII)
_QUOTED = {
    "'": re.compile(r"'((?:[^']|'')*+)'"),
    '"': re.compile(r'"((?:[^"]|"")*+)"'),
}


class FilterError(ValueError):
    """A filter that does not follow the grammar; `message` says what is wrong and where."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class Predicate:
    """One comparison: `field operator 'value'`."""

    field: str
    operator: Operator
    value: str


@dataclass(frozen=True, slots=True)
class Conjunction:
    """Two or more predicates joined by the same logical operator."""

    operator: Literal["AND", "OR"]
    predicates: tuple[Predicate, ...]


Filter = Predicate | Conjunction


def parse_filter(text: str) -> Filter:
    """Parse a filter, or raise `FilterError` saying what is wrong and at which position."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise FilterError("the filter is empty", 0)
    predicate, position = _parse_predicate(text, _skip_space(text, 0))
    predicates = [predicate]
    logical: Literal["AND", "OR"] | None = None
    while (end := _skip_space(text, position)) < len(text):
        match = _LOGICAL.match(text, position)
        if match is None:
            raise FilterError(f"expected AND, OR or the end of the filter at position {end}", end)
        word = cast(Literal["AND", "OR"], match.group(1).upper())
        if logical is not None and word != logical:
            raise FilterError(
                f"cannot mix AND with OR in one filter (no parentheses) at position {match.start(1)}",
                match.start(1),
            )
        logical = word
        start = _skip_space(text, match.end())
        if start == len(text):
            raise FilterError(f"expected a predicate after {match.group(1)!r} at position {start}", start)
        if len(predicates) == MAX_PREDICATES:
            raise FilterError(f"a filter has at most {MAX_PREDICATES} predicates; more at position {start}", start)
        predicate, position = _parse_predicate(text, start)
        predicates.append(predicate)
    if logical is None:
        return predicates[0]
    return Conjunction(operator=logical, predicates=tuple(predicates))


def filter_fields(parsed: Filter) -> list[str]:
    """The field names a filter uses, in order of first use, each once."""
    predicates = parsed.predicates if isinstance(parsed, Conjunction) else (parsed,)
    return list(dict.fromkeys(predicate.field for predicate in predicates))


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    assert match is not None  # `\s*` matches everywhere, if only the empty string
    return match.end()


def _parse_predicate(text: str, position: int) -> tuple[Predicate, int]:
    """Parse `field op 'value'` starting at `position`; return it and the position after it."""
    candidate = _FIELD_CANDIDATE.match(text, position)
    if candidate is None:
        raise FilterError(f"expected a field name at position {position}", position)
    field = candidate.group()
    if _FIELD.fullmatch(field) is None:
        raise FilterError(f"invalid field name {field!r} at position {position}", position)
    position = _skip_space(text, candidate.end())
    operator_match = _OPERATOR_CANDIDATE.match(text, position)
    if operator_match is None:
        raise FilterError(f"expected an operator after {field!r} at position {position}", position)
    operator = operator_match.group()
    if operator not in _OPERATORS:
        raise FilterError(f"unknown operator {operator!r} at position {position}", position)
    position = _skip_space(text, operator_match.end())
    quote = text[position : position + 1]
    if quote not in _QUOTED:
        raise FilterError(f"expected a quoted value after {operator!r} at position {position}", position)
    value_match = _QUOTED[quote].match(text, position)
    if value_match is None:
        raise FilterError(f"unterminated value: no closing {quote} for the quote at position {position}", position)
    value = value_match.group(1).replace(quote * 2, quote)
    return Predicate(field=field, operator=cast(Operator, operator), value=value), value_match.end()
