"""OneRoster CSV import speed on PostgreSQL, next to a plain `COPY` of the same rows.

Generates (fixed seed) a district of 60 schools, 3,000 teachers, 50,000 students, 2,000 guardians,
10,000 classes and 250,000 enrollments as a OneRoster 1.2 CSV zip; times its bulk import through
`plp.operations.import_roster` (what `plp roster import` runs) into a fresh migrated database,
a re-import of the same file, and a 1% delta; and times a psycopg `COPY` of the same rows into the
same tables of another fresh database. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust).
Ends with one JSON line.
"""

import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' district generator

from kit.migrate import upgrade
from plp.operations import import_roster
from services.profile_service.roster_import import file_counts
from tests.profile_service.csv_district import District, delta, district, write_roster_zip

ADMIN = os.environ.get("PLP_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SIZE = {
    "schools": 60,
    "teachers": 3_000,
    "students": 50_000,
    "guardians": 2_000,
    "classes": 10_000,
    "enrollments": 250_000,
}
TENANT = "bench"


@contextmanager
def database(name: str) -> Iterator[str]:
    """A fresh database migrated to head; dropped afterwards. Yields its SQLAlchemy URL."""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        upgrade("profile", url)
        yield url
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq one."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def row_count(tables: District) -> int:
    """CSV data rows in the district (every file)."""
    return sum(len(t.rows) for t in tables.values())


def timed_import(path: Path, url: str) -> tuple[float, dict[str, Any]]:
    """Seconds to import `path` into the bench tenant, and the job's counts by file."""
    started = time.perf_counter()
    job = import_roster(path, TENANT, database_url=url)
    seconds = time.perf_counter() - started
    assert job.state == "succeeded", job.detail
    assert job.error_count == 0, job.errors[:5]
    files = file_counts(job)
    return seconds, files


def _cells(tables: District, name: str) -> Iterator[dict[str, str]]:
    header = tables[name].header
    for row in tables[name].rows:
        yield dict(zip(header, row, strict=True))


def _list(value: str) -> Jsonb:
    return Jsonb([v for v in value.split(",") if v])


def copy_rows(tables: District) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """The district as rows of our tables (columns, rows), parents first, ready for COPY."""
    now = datetime.now(UTC)
    common = ("tenant_id", "sourced_id", "status", "date_last_modified")
    base = (TENANT,)

    def head(c: dict[str, str]) -> tuple[Any, ...]:
        return (*base, c["sourcedId"], "active", now)

    out: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]] = {}
    out["org"] = (
        (*common, "name", "type", "identifier", "parent_sourced_id"),
        [
            (*head(c), c["name"], c["type"], c["identifier"] or None, c["parentSourcedId"] or None)
            for c in _cells(tables, "orgs")
        ],
    )
    out["academic_session"] = (
        (*common, "title", "type", "start_date", "end_date", "parent_sourced_id", "school_year"),
        [
            (
                *head(c),
                c["title"],
                c["type"],
                c["startDate"],
                c["endDate"],
                c["parentSourcedId"] or None,
                c["schoolYear"],
            )
            for c in _cells(tables, "academicSessions")
        ],
    )
    out["course"] = (
        (
            *common,
            "title",
            "school_year_sourced_id",
            "course_code",
            "grades",
            "subjects",
            "subject_codes",
            "org_sourced_id",
        ),
        [
            (
                *head(c),
                c["title"],
                c["schoolYearSourcedId"],
                c["courseCode"],
                _list(c["grades"]),
                _list(c["subjects"]),
                _list(c["subjectCodes"]),
                c["orgSourcedId"],
            )
            for c in _cells(tables, "courses")
        ],
    )
    classes = list(_cells(tables, "classes"))
    out["roster_class"] = (
        (
            *common,
            "title",
            "class_code",
            "class_type",
            "location",
            "grades",
            "subjects",
            "subject_codes",
            "periods",
            "course_sourced_id",
            "school_sourced_id",
        ),
        [
            (
                *head(c),
                c["title"],
                c["classCode"],
                c["classType"],
                c["location"],
                _list(c["grades"]),
                _list(c["subjects"]),
                _list(c["subjectCodes"]),
                _list(c["periods"]),
                c["courseSourcedId"],
                c["schoolSourcedId"],
            )
            for c in classes
        ],
    )
    out["class_term"] = (
        ("tenant_id", "class_sourced_id", "term_sourced_id"),
        [(TENANT, c["sourcedId"], term) for c in classes for term in c["termSourcedIds"].split(",")],
    )
    users = list(_cells(tables, "users"))
    role_of = {r["userSourcedId"]: r for r in _cells(tables, "roles")}
    out["roster_user"] = (
        (
            *common,
            "role",
            "enabled_user",
            "username",
            "user_ids",
            "given_name",
            "family_name",
            "email",
            "identifier",
            "grades",
            "primary_org_sourced_id",
        ),
        [
            (
                *head(c),
                role_of[c["sourcedId"]]["role"],
                True,
                c["username"],
                Jsonb([{"type": "SIS", "identifier": c["userIds"].strip("{}").split(":")[1]}]),
                c["givenName"],
                c["familyName"],
                c["email"],
                c["identifier"],
                _list(c["grades"]),
                c["primaryOrgSourcedId"],
            )
            for c in users
        ],
    )
    out["user_role"] = (
        ("tenant_id", "user_sourced_id", "org_sourced_id", "role", "role_type"),
        [(TENANT, r["userSourcedId"], r["orgSourcedId"], r["role"], r["roleType"]) for r in role_of.values()],
    )
    out["user_agent"] = (
        ("tenant_id", "user_sourced_id", "agent_sourced_id"),
        [(TENANT, c["sourcedId"], c["agentSourcedIds"]) for c in users if c["agentSourcedIds"]],
    )
    out["enrollment"] = (
        (*common, "class_sourced_id", "user_sourced_id", "school_sourced_id", "role", "primary"),
        [
            (*head(c), c["classSourcedId"], c["userSourcedId"], c["schoolSourcedId"], c["role"], c["primary"] == "true")
            for c in _cells(tables, "enrollments")
        ],
    )
    return out


def timed_copy(url: str, rows: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]) -> float:
    """Seconds to COPY `rows` into their tables in one transaction, each table analyzed before the next refers to it."""
    with psycopg.connect(libpq(url)) as conn:
        started = time.perf_counter()
        with conn.cursor() as cursor:
            for table, (columns, values) in rows.items():
                names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
                with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)) as copy:
                    for value in values:
                        copy.write_row(value)
                cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        conn.commit()
        return time.perf_counter() - started


def main() -> None:
    """Run the bench and print its figures."""
    started = time.perf_counter()
    tables = district(**SIZE, seed=2027)
    rows = row_count(tables)
    changes = delta(tables, fraction=0.01, seed=2028)
    gc.freeze()  # the generated rows stay in memory; the collector should not rescan them during the imports
    print(f"generated {rows:,} CSV rows in {time.perf_counter() - started:.1f} s")
    suffix = os.getpid()
    with tempfile.TemporaryDirectory(prefix="plp-bench-") as folder:
        bulk_zip = write_roster_zip(Path(folder) / "bulk.zip", tables)
        delta_zip = write_roster_zip(Path(folder) / "delta.zip", changes, "delta")
        print(f"bulk zip {bulk_zip.stat().st_size / 1e6:.1f} MB, delta zip {row_count(changes):,} rows")
        with database(f"plp_bench_import_{suffix}") as url:
            bulk_seconds, files = timed_import(bulk_zip, url)
            print(f"bulk import: {bulk_seconds:.1f} s, {rows / bulk_seconds:,.0f} rows/s")
            for name, counts in files.items():
                print(f"  {name}: {counts}")
            again_seconds, files = timed_import(bulk_zip, url)
            unchanged = all(c["created"] == c["updated"] == c["deleted"] == 0 for c in files.values())
            print(f"re-import of the same file: {again_seconds:.1f} s (nothing changed: {unchanged})")
            delta_seconds, files = timed_import(delta_zip, url)
            print(f"1% delta import ({row_count(changes):,} rows): {delta_seconds:.2f} s")
            for name, counts in files.items():
                print(f"  {name}: {counts}")
        copy_input = copy_rows(tables)
        with database(f"plp_bench_copy_{suffix}") as url:
            copy_seconds = timed_copy(url, copy_input)
            print(f"COPY of the same rows: {copy_seconds:.1f} s, {rows / copy_seconds:,.0f} rows/s")
    rows_per_s = rows / bulk_seconds
    copy_rows_per_s = rows / copy_seconds
    figures = {
        "bulk_seconds": round(bulk_seconds, 2),
        "rows_per_s": round(rows_per_s),
        "copy_rows_per_s": round(copy_rows_per_s),
        "ratio_to_copy": round(rows_per_s / copy_rows_per_s, 3),
        "delta_seconds": round(delta_seconds, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
