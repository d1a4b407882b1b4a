"""How fast large OneRoster pages are served: `GET /users?limit=10000` over 50,000 users.

Creates a throwaway PostgreSQL database (127.0.0.1:5432, user postgres), loads 50,000 students
with a role each through the roster store, then reads every page of 10,000 users through the
real profile app (in process, httpx ASGI transport) and, as the baseline measured in the same
run, fetches the same rows with one plain SQL query per page (no roles, no JSON). Prints the
figures and ends with one JSON line with `users`, `page_limit`, `page_seconds`, `objects_per_s`,
`sql_objects_per_s` and `ratio_to_sql`.
"""

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from kit.auth import ensure_dev_signing_key, issue_token
from kit.db import create_engine, make_sessionmaker
from kit.migrate import upgrade
from services.profile_service import roster_store, scopes
from services.profile_service.app import create_app
from services.profile_service.settings import ProfileSettings

ADMIN_URL = os.environ.get("PLP_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
USERS = 50_000
LIMIT = 10_000
TENANT = "bench"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _create_database(name: str) -> str:
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_database(name: str) -> None:
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _records() -> dict[str, list[roster_store.RosterRecord]]:
    org = roster_store.RosterRecord(
        "org",
        "district",
        {"metadata": None, "name": "Bench", "type": "district", "identifier": None, "parent_sourced_id": None},
    )
    users = []
    for n in range(USERS):
        sourced_id = f"student-{n:06d}"
        values = {
            "metadata": None,
            "role": "student",
            "enabled_user": True,
            "username": sourced_id,
            "user_ids": [],
            "given_name": f"Given{n % 997}",
            "family_name": f"Family{n % 1009}",
            "middle_name": None,
            "preferred_given_name": None,
            "preferred_middle_name": None,
            "preferred_family_name": None,
            "pronouns": None,
            "email": f"{sourced_id}@bench.example",
            "sms": None,
            "phone": None,
            "identifier": str(n),
            "user_master_identifier": None,
            "grades": [f"{n % 12 + 1:02d}"],
            "primary_org_sourced_id": "district",
        }
        role = {"org_sourced_id": "district", "role": "student", "role_type": "primary", "user_profile": None}
        users.append(
            roster_store.RosterRecord(
                "user", sourced_id, values, children={"roles": [{**role, "begin_date": None, "end_date": None}]}
            )
        )
    return {"org": [org], "user": users}


async def _load(url: str) -> None:
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        for kind, records in _records().items():
            await roster_store.apply_records(session, TENANT, kind, records)
    await engine.dispose()


async def _read_api(url: str, var_dir: Path) -> float:
    app = create_app(ProfileSettings(database_url=url, var_dir=var_dir, log_level="WARNING"))
    settings = app.state.settings
    token = issue_token(
        ensure_dev_signing_key(settings.signing_key_file),
        issuer=settings.dev_issuer,
        audience=settings.jwt_audience,
        tenant_id=TENANT,
        sub="bench",
        roles=["partner"],
        scopes=[scopes.ROSTER_READ],
    )
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://profile.bench", timeout=120
        ) as client,
    ):
        await client.get("/ims/oneroster/rostering/v1p2/users?limit=10", headers=headers)  # warm up
        started = time.perf_counter()
        seen = 0
        for offset in range(0, USERS, LIMIT):
            response = await client.get(
                f"/ims/oneroster/rostering/v1p2/users?limit={LIMIT}&offset={offset}", headers=headers
            )
            assert response.status_code == 200, response.text[:300]
            seen += len(response.json()["users"])
        elapsed = time.perf_counter() - started
    assert seen == USERS, seen
    return elapsed


def _read_sql(url: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(_libpq(url)) as conn:
        for offset in range(0, USERS, LIMIT):
            rows = conn.execute(
                "SELECT * FROM roster_user WHERE tenant_id = %s ORDER BY sourced_id LIMIT %s OFFSET %s",
                (TENANT, LIMIT, offset),
            ).fetchall()
            assert len(rows) == LIMIT
    return time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print its figures."""
    name = f"plp_bench_reads_{os.getpid()}"
    url = _create_database(name)
    try:
        upgrade("profile", url)
        started = time.perf_counter()
        asyncio.run(_load(url))
        print(f"loaded {USERS} users in {time.perf_counter() - started:.1f} s")
        with tempfile.TemporaryDirectory() as var_dir:
            api_seconds = asyncio.run(_read_api(url, Path(var_dir)))
        sql_seconds = _read_sql(url)
    finally:
        _drop_database(name)
    pages = USERS // LIMIT
    figures = {
        "users": USERS,
        "page_limit": LIMIT,
        "page_seconds": round(api_seconds / pages, 3),
        "objects_per_s": round(USERS / api_seconds),
        "sql_objects_per_s": round(USERS / sql_seconds),
        "ratio_to_sql": round(sql_seconds / api_seconds, 3),
    }
    print(f"API: {pages} pages of {LIMIT} users in {api_seconds:.2f} s ({figures['page_seconds']} s a page)")
    print(f"plain SQL, same pages: {sql_seconds:.2f} s; the API runs at {figures['ratio_to_sql']:.0%} of it")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
