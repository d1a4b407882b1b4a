"""OneRoster filters compiled to SQL and run by the database: which rows come back, on SQLite and PostgreSQL.

PostgreSQL runs too when `PLP_TEST_DATABASE_URL` is set; the tests use a throwaway database of their own.
"""

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import CompileError

from services.profile_service.oneroster_filter import parse_filter
from services.profile_service.oneroster_sql import (
    Field,
    FilterField,
    InvalidFilterFieldError,
    RelatedField,
    compile_filter,
)

PG_URL = os.environ.get("PLP_TEST_DATABASE_URL")

metadata = sa.MetaData()
person = sa.Table(
    "person",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("given_name", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("birth_date", sa.Date),
    sa.Column("modified_at", sa.DateTime(timezone=True)),
    sa.Column("enabled", sa.Boolean),
    sa.Column("grades", sa.JSON().with_variant(JSONB(), "postgresql")),
)
person_role = sa.Table(
    "person_role",
    metadata,
    sa.Column("person_id", sa.ForeignKey("person.id"), primary_key=True),
    sa.Column("role", sa.String(16), primary_key=True),
)

FIELDS: dict[str, Field] = {
    "givenName": FilterField("string", person.c.given_name),
    "status": FilterField("enum", person.c.status, frozenset({"active", "tobedeleted"})),
    "birthDate": FilterField("date", person.c.birth_date),
    "dateLastModified": FilterField("datetime", person.c.modified_at),
    "enabled": FilterField("boolean", person.c.enabled),
    "grades": FilterField("list", person.c.grades),
    "roles.role": RelatedField("string", person_role.c.role, person_role.c.person_id == person.c.id),
}


def utc(text: str) -> datetime:
    """An aware UTC datetime from ISO text."""
    return datetime.fromisoformat(text).astimezone(UTC)


# Row 4 has SQL NULL in every optional column; row 5 holds JSON `null` as its grades.
PEOPLE: list[dict[str, Any]] = [
    {
        "id": 1,
        "given_name": "Ann",
        "status": "active",
        "birth_date": date(2010, 5, 1),
        "modified_at": utc("2026-01-01T10:00:00.500+00:00"),
        "enabled": True,
        "grades": ["09", "10"],
    },
    {
        "id": 2,
        "given_name": "bob",
        "status": "tobedeleted",
        "birth_date": date(2011, 1, 15),
        "modified_at": utc("2026-01-01T10:00:01+00:00"),
        "enabled": False,
        "grades": ["10"],
    },
    {
        "id": 3,
        "given_name": "50% off_peak",
        "status": "active",
        "birth_date": None,
        "modified_at": utc("2025-12-31T23:00:00+00:00"),
        "enabled": None,
        "grades": ["KG", "Pre_K"],
    },
    {
        "id": 4,
        "given_name": None,
        "status": "active",
        "birth_date": date(2009, 12, 31),
        "modified_at": None,
        "enabled": True,
        "grades": sa.null(),
    },
    {
        "id": 5,
        "given_name": "O'Brien",
        "status": "active",
        "birth_date": date(2010, 5, 1),
        "modified_at": utc("2026-01-01T08:00:00+00:00"),
        "enabled": False,
        "grades": None,
    },
    {
        "id": 6,
        "given_name": "50 % offXpeak\\dir",
        "status": "active",
        "birth_date": date(2012, 1, 1),
        "modified_at": utc("2026-01-02T00:00:00+00:00"),
        "enabled": True,
        "grades": ["11"],
    },
]
ROLES = [(1, "student"), (2, "teacher"), (2, "student"), (3, "teacher"), (5, "aide")]


def postgresql_engine(admin_url: str) -> Iterator[sa.Engine]:
    """An engine on a throwaway PostgreSQL database, dropped afterwards."""
    url = make_url(admin_url)
    name = f"plp_filter_test_{os.getpid()}"
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = sa.create_engine(url.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.skipif(PG_URL is None, reason="PLP_TEST_DATABASE_URL is not set")),
    ],
)
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """The `person` and `person_role` tables with their rows, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        engines: Iterator[sa.Engine] = iter([sa.create_engine("sqlite://")])
    else:
        assert PG_URL is not None
        engines = postgresql_engine(PG_URL)
    for engine in engines:
        metadata.create_all(engine)
        with engine.begin() as connection:
            for row in PEOPLE:
                connection.execute(person.insert().values(row))
            connection.execute(person_role.insert(), [{"person_id": pid, "role": role} for pid, role in ROLES])
        yield engine
        engine.dispose()


def matching(engine: sa.Engine, text: str) -> set[int]:
    """The ids of the people `text` selects, filtered by the database."""
    condition = compile_filter(parse_filter(text), FIELDS)
    with engine.connect() as connection:
        return set(connection.scalars(sa.select(person.c.id).where(condition)))


def refused(text: str) -> InvalidFilterFieldError:
    """The error `compile_filter` raises for `text`."""
    with pytest.raises(InvalidFilterFieldError) as caught:
        compile_filter(parse_filter(text), FIELDS)
    return caught.value


class TestString:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [
            ("givenName='Ann'", {1}),
            ("givenName='ann'", set()),
            ("givenName='O''Brien'", {5}),
            ("givenName!='Ann'", {2, 3, 4, 5, 6}),
            ("givenName~'AN'", {1}),
            ("givenName~'o'", {2, 3, 5, 6}),
            ("givenName~''", {1, 2, 3, 5, 6}),
            ("givenName<'B'", {1, 3, 6}),
            ("givenName>='O'", {2, 5}),
        ],
    )
    def test_filters(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids

    @pytest.mark.parametrize(
        ("text", "ids"),
        [("givenName~'50%'", {3}), ("givenName~'f_p'", {3}), ("givenName~'\\'", {6}), ("givenName~'\\d'", {6})],
    )
    def test_contains_matches_wildcards_and_escapes_literally(
        self, engine: sa.Engine, text: str, ids: set[int]
    ) -> None:
        assert matching(engine, text) == ids


class TestEnum:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [("status='tobedeleted'", {2}), ("status!='active'", {2}), ("status~'ACTIVE'", {1, 3, 4, 5, 6})],
    )
    def test_filters(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids

    def test_unknown_value_is_refused(self) -> None:
        error = refused("status='deleted'")
        assert error.field == "status"
        assert error.message == "'deleted' is not a value of 'status'; use one of: active, tobedeleted"


class TestDate:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [
            ("birthDate='2010-05-01'", {1, 5}),
            ("birthDate>='2010-01-01'", {1, 2, 5, 6}),
            ("birthDate<'2010-01-01T23:30:00Z'", {4}),
            ("birthDate!='2010-05-01'", {2, 3, 4, 6}),
        ],
    )
    def test_filters(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids

    @pytest.mark.parametrize(
        "value", ["2010-13-01", "2010-02-30", "yesterday", "2010-5-1", "20100501", " 2010-05-01", ""]
    )
    def test_not_a_date_is_refused(self, value: str) -> None:
        error = refused(f"birthDate='{value}'")
        assert error.field == "birthDate"
        assert error.message == f"{value!r} is not a date for 'birthDate' (use YYYY-MM-DD)"


class TestDateTime:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [
            ("dateLastModified>'2026-01-01T10:00:00.900Z'", {2, 6}),
            ("dateLastModified<'2026-01-01T10:00:00.900Z'", {1, 3, 5}),
            ("dateLastModified>'2026-01-01T12:00:00.900+02:00'", {2, 6}),
            ("dateLastModified>'2026-01-01T10:00:00.900'", {2, 6}),
            ("dateLastModified<'2026-01-01T11:00:00+02:00'", {3, 5}),
            ("dateLastModified>='2026-01-01T05:00:00.5-05:00'", {1, 2, 6}),
            ("dateLastModified='2026-01-01T10:00:00.5Z'", {1}),
            ("dateLastModified='2026-01-01T10:00:00.500000001Z'", {1}),
            ("dateLastModified>'2026-01-01'", {1, 2, 5, 6}),
            ("dateLastModified>'2026-01-01T10:00'", {1, 2, 6}),
            ("dateLastModified!='2026-01-01T10:00:01Z'", {1, 3, 4, 5, 6}),
        ],
    )
    def test_compares_as_time_not_text(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids

    @pytest.mark.parametrize(
        "value",
        ["10:00", "2026-01-01T25:00:00Z", "2026-01-01T10:00:00+24:00", "2026-01-01T10Z", "2026-01-01Z", "now", ""],
    )
    def test_not_a_datetime_is_refused(self, value: str) -> None:
        error = refused(f"dateLastModified='{value}'")
        assert error.field == "dateLastModified"
        assert error.message.startswith(f"{value!r} is not an ISO 8601 date-time for 'dateLastModified'")

    def test_binds_an_aware_utc_datetime(self) -> None:
        compiled = compile_filter(parse_filter("dateLastModified>'2026-01-01T12:00:00.123+02:00'"), FIELDS).compile()
        assert list(compiled.params.values()) == [datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)]


class TestBoolean:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [("enabled='true'", {1, 4, 6}), ("enabled='FALSE'", {2, 5}), ("enabled!='true'", {2, 3, 5})],
    )
    def test_filters(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids

    def test_not_a_boolean_is_refused(self) -> None:
        assert refused("enabled='yes'").message == "'yes' is not a boolean for 'enabled' (use true or false)"


class TestList:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [
            ("grades='10'", {1, 2}),
            ("grades='1'", set()),
            ("grades!='10'", {3, 4, 5, 6}),
            ("grades~'k'", {3}),
            ("grades~'1'", {1, 2, 6}),
            ("grades~'_'", {3}),
            ("grades~'%'", set()),
        ],
    )
    def test_filters_elements(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids

    def test_binds_the_value(self) -> None:
        compiled = compile_filter(parse_filter("grades='x'' OR 1=1'"), FIELDS).compile(
            dialect=sa.create_engine("sqlite://").dialect
        )
        assert "OR 1=1" not in str(compiled)
        assert list(compiled.params.values()) == ["x' OR 1=1"]

    def test_other_dialects_are_refused(self) -> None:
        condition = compile_filter(parse_filter("grades='10'"), FIELDS)
        with pytest.raises(CompileError, match="list filters are not implemented for mysql"):
            condition.compile(dialect=mysql.dialect())


class TestRelated:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [
            ("roles.role='teacher'", {2, 3}),
            ("roles.role!='teacher'", {1, 4, 5, 6}),
            ("roles.role~'STU'", {1, 2}),
            ("roles.role>'s'", {1, 2, 3}),
        ],
    )
    def test_filters_through_exists(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids

    def test_a_list_is_not_a_related_field(self) -> None:
        with pytest.raises(ValueError, match="a related field cannot be a list"):
            RelatedField("list", person_role.c.role, person_role.c.person_id == person.c.id)


class TestConjunction:
    @pytest.mark.parametrize(
        ("text", "ids"),
        [
            ("status='active' AND grades='10'", {1}),
            ("givenName='Ann' OR roles.role='aide'", {1, 5}),
            ("status='active' AND enabled='true' AND birthDate<'2011-01-01'", {1, 4}),
            ("status='tobedeleted' OR dateLastModified>'2026-01-01T23:59:59.999Z' OR grades='KG'", {2, 3, 6}),
        ],
    )
    def test_filters(self, engine: sa.Engine, text: str, ids: set[int]) -> None:
        assert matching(engine, text) == ids


class TestInvalidField:
    def test_unknown_field_is_refused(self) -> None:
        error = refused("familyName='x'")
        assert error.field == "familyName"
        assert error.message.startswith("'familyName' is not a field that can be filtered on; use one of: birthDate,")

    def test_unknown_field_in_a_conjunction_is_refused(self) -> None:
        assert refused("status='active' AND nope='x'").field == "nope"

    @pytest.mark.parametrize(
        ("text", "usable"),
        [
            ("enabled>'true'", "= !="),
            ("enabled~'t'", "= !="),
            ("grades<'10'", "= != ~"),
            ("birthDate~'2010'", "= != > >= < <="),
            ("dateLastModified~'2026'", "= != > >= < <="),
        ],
    )
    def test_operator_not_allowed_for_the_kind_is_refused(self, text: str, usable: str) -> None:
        error = refused(text)
        assert error.message.endswith(f"; use one of: {usable}")
        assert error.message.startswith("the operator ")

    def test_an_enum_needs_values(self) -> None:
        with pytest.raises(ValueError, match="an enum field needs its allowed values"):
            FilterField("enum", person.c.status)


class TestInjection:
    @pytest.mark.parametrize(
        "text",
        [
            "givenName='x'' OR ''1''=''1'",
            "givenName='Ann''; DROP TABLE person;--'",
            "givenName~''' OR 1=1 --'",
            "grades='10''); DROP TABLE person;--'",
            "roles.role='x'' OR ''a''=''a'",
        ],
    )
    def test_finds_nothing_and_drops_nothing(self, engine: sa.Engine, text: str) -> None:
        assert matching(engine, text) == set()
        assert sa.inspect(engine).has_table("person")
        assert matching(engine, "status~''") == {1, 2, 3, 4, 5, 6}
