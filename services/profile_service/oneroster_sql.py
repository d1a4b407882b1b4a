"""Compile a parsed OneRoster filter to an SQLAlchemy boolean expression, so the database does the filtering.

Each filterable field is declared once by the caller with its kind (`FilterField` for a column of the
main table, `RelatedField` for a column of rows in another table tested with `EXISTS`). Values are
checked against the kind, converted (dates, aware UTC timestamps, booleans) and always bound as
parameters. Case-insensitive matching (`~`) lowers both sides in SQL: SQLite lowers ASCII letters only.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.visitors import InternalTraversal

from services.profile_service.oneroster_filter import Conjunction, Filter, Operator, Predicate

FieldKind = Literal["string", "enum", "date", "datetime", "boolean", "list"]

_ORDERING: frozenset[Operator] = frozenset({"=", "!=", ">", ">=", "<", "<="})
_ALLOWED_OPERATORS: dict[FieldKind, frozenset[Operator]] = {
    "string": _ORDERING | {"~"},
    "enum": _ORDERING | {"~"},
    "date": _ORDERING,
    "datetime": _ORDERING,
    "boolean": frozenset({"=", "!="}),
    "list": frozenset({"=", "!=", "~"}),
}
_OPERATOR_ORDER: tuple[Operator, ...] = ("=", "!=", ">", ">=", "<", "<=", "~")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.(?P<fraction>\d{1,9}))?)?)"
    r"(?P<zone>[Zz]|(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2}))?)?",
    re.ASCII,
)
_LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class FilterField:
    """A filterable column of the main table (for "list": a JSON column holding a list of strings)."""

    kind: FieldKind
    column: ColumnElement[Any]
    values: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.kind == "enum" and not self.values:
            raise ValueError("an enum field needs its allowed values")


@dataclass(frozen=True)
class RelatedField:
    """A filterable column of rows in another table, matched when some row related by `correlation` matches."""

    kind: FieldKind
    column: ColumnElement[Any]
    correlation: ColumnElement[bool]
    values: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.kind == "list":
            raise ValueError("a related field cannot be a list")
        if self.kind == "enum" and not self.values:
            raise ValueError("an enum field needs its allowed values")


Field = FilterField | RelatedField


class InvalidFilterFieldError(ValueError):
    """A filter naming an unknown field, using an operator its kind forbids, or a value not of its kind."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def compile_filter(parsed: Filter, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    """The SQL condition selecting the rows `parsed` matches, given the filterable `fields` by name."""
    if isinstance(parsed, Conjunction):
        clauses = [_compile_predicate(predicate, fields) for predicate in parsed.predicates]
        return sa.and_(*clauses) if parsed.operator == "AND" else sa.or_(*clauses)
    return _compile_predicate(parsed, fields)


def _compile_predicate(predicate: Predicate, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    name, operator = predicate.field, predicate.operator
    field = fields.get(name)
    if field is None:
        known = ", ".join(sorted(fields))
        raise InvalidFilterFieldError(name, f"{name!r} is not a field that can be filtered on; use one of: {known}")
    allowed = _ALLOWED_OPERATORS[field.kind]
    if operator not in allowed:
        usable = " ".join(op for op in _OPERATOR_ORDER if op in allowed)
        raise InvalidFilterFieldError(
            name, f"the operator {operator!r} cannot be used with {name!r} ({field.kind}); use one of: {usable}"
        )
    value = _convert(name, field, predicate.value, operator)
    if field.kind == "list":
        bound = sa.literal(_contains_pattern(value) if operator == "~" else value, sa.String())
        return _ListMatch(field.column, bound, substring=operator == "~", negate=operator == "!=")
    if isinstance(field, RelatedField):
        if operator == "!=":  # none of the related rows has the value
            return ~sa.exists().where(field.correlation, _compare(field.column, "=", value))
        return sa.exists().where(field.correlation, _compare(field.column, operator, value))
    if operator == "!=":  # SQL's `NULL != 'x'` is not true, but a missing value is not 'x' either
        return sa.or_(field.column.is_(None), _compare(field.column, operator, value))
    return _compare(field.column, operator, value)


def _compare(column: ColumnElement[Any], operator: Operator, value: object) -> ColumnElement[bool]:
    match operator:
        case "=":
            return column == value
        case "!=":
            return column != value
        case ">":
            return column > value
        case ">=":
            return column >= value
        case "<":
            return column < value
        case "<=":
            return column <= value
        case "~":
            pattern = sa.literal(_contains_pattern(str(value)), sa.String())
            return sa.func.lower(column).like(sa.func.lower(pattern), escape=_LIKE_ESCAPE)


def _contains_pattern(value: str) -> str:
    """A LIKE pattern matching text containing `value` literally (its `%`, `_` and escapes escaped)."""
    escaped = re.sub(r"([%_\\])", r"\\\1", value)
    return f"%{escaped}%"


def _convert(name: str, field: Field, value: str, operator: Operator) -> Any:
    """`value` as the Python value bound for the field's kind, or `InvalidFilterFieldError`."""
    match field.kind:
        case "enum":
            # `~` searches within the values, so only whole values are checked.
            if operator != "~" and field.values is not None and value not in field.values:
                choices = ", ".join(sorted(field.values))
                raise InvalidFilterFieldError(name, f"{value!r} is not a value of {name!r}; use one of: {choices}")
            return value
        case "date":
            parsed_date = _parse_date(value)
            if parsed_date is None:
                raise InvalidFilterFieldError(name, f"{value!r} is not a date for {name!r} (use YYYY-MM-DD)")
            return parsed_date
        case "datetime":
            parsed = _parse_datetime(value)
            if parsed is None:
                raise InvalidFilterFieldError(
                    name, f"{value!r} is not an ISO 8601 date-time for {name!r} (e.g. 2026-01-01T10:00:00.000Z)"
                )
            column_type = field.column.type
            if isinstance(column_type, sa.DateTime) and not column_type.timezone:
                return parsed.replace(tzinfo=None)  # a naive column holds UTC by convention
            return parsed
        case "boolean":
            if value.lower() not in ("true", "false"):
                raise InvalidFilterFieldError(name, f"{value!r} is not a boolean for {name!r} (use true or false)")
            return value.lower() == "true"
        case "string" | "list":
            return value


def _parse_date(value: str) -> date | None:
    """A `YYYY-MM-DD` date, or the date (as written) of an ISO 8601 date-time; None if neither."""
    if _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    match = _DATETIME.fullmatch(value)
    return _parse_date(match.group("date")) if match is not None and match.group("time") else None


def _parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime (no zone means UTC); None if not one."""
    match = _DATETIME.fullmatch(value)
    if match is None:
        return None
    zone: timezone = UTC
    if match.group("sign"):
        offset = timedelta(hours=int(match.group("hours")), minutes=int(match.group("minutes")))
        if offset >= timedelta(hours=24) or int(match.group("minutes")) >= 60:
            return None
        zone = timezone(-offset if match.group("sign") == "-" else offset)
    fraction = (match.group("fraction") or "")[:6].ljust(6, "0")  # beyond microseconds is truncated
    try:
        day = date.fromisoformat(match.group("date"))
        clock = time.fromisoformat(match.group("time") or "00:00").replace(microsecond=int(fraction))
    except ValueError:
        return None
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


class _ListMatch(ColumnElement[bool]):
    """`[NOT] EXISTS` an element of a JSON list of strings equal to (or containing, ignoring case) a value."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # render as is in WHERE, not as `... = 1` on SQLite
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's declaration, read per class)
        ("column", InternalTraversal.dp_clauseelement),
        ("value", InternalTraversal.dp_clauseelement),
        ("substring", InternalTraversal.dp_boolean),
        ("negate", InternalTraversal.dp_boolean),
    ]

    def __init__(self, column: ColumnElement[Any], value: BindParameter[str], *, substring: bool, negate: bool) -> None:
        self.column = column
        self.value = value
        self.substring = substring
        self.negate = negate

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.column._from_objects


def _render_list_match(
    element: _ListMatch, compiler: SQLCompiler, *, elements: str, typeof: str, alias: str, **kw: Any
) -> str:
    """The `[NOT] EXISTS` over the rows of `elements(column)`, aliased `alias` with a `value` column."""
    column = compiler.process(element.column, **kw)
    value = compiler.process(element.value, **kw)
    # NULL, JSON null or a non-list have no elements (PostgreSQL would raise on a scalar, SQLite yield it).
    source = f"{elements}(CASE WHEN {typeof}({column}) = 'array' THEN {column} END) AS {alias}"
    if element.substring:
        escape = compiler.render_literal_value(_LIKE_ESCAPE, sa.String())
        condition = f"lower(list_element.value) LIKE lower({value}) ESCAPE {escape}"
    else:
        condition = f"list_element.value = {value}"
    exists = f"EXISTS (SELECT 1 FROM {source} WHERE {condition})"  # noqa: S608 (values are bound parameters)
    return f"NOT {exists}" if element.negate else exists


@compiles(_ListMatch)
def _compile_list_match(element: _ListMatch, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"list filters are not implemented for {compiler.dialect.name}")


@compiles(_ListMatch, "sqlite")
def _compile_list_match_sqlite(element: _ListMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return _render_list_match(element, compiler, elements="json_each", typeof="json_type", alias="list_element", **kw)


@compiles(_ListMatch, "postgresql")
def _compile_list_match_postgresql(element: _ListMatch, compiler: SQLCompiler, **kw: Any) -> str:
    prefix = "jsonb" if isinstance(element.column.type.dialect_impl(compiler.dialect), JSONB) else "json"
    return _render_list_match(
        element,
        compiler,
        elements=f"{prefix}_array_elements_text",
        typeof=f"{prefix}_typeof",
        alias="list_element(value)",
        **kw,
    )
