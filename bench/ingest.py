"""How fast the LRS ingests: batches of 100 statements from 8 concurrent clients for 30 s, mastery on.

Creates a throwaway PostgreSQL database (127.0.0.1:5432, user postgres), migrates it, starts the
progress service with uvicorn on loopback (`--workers`, default 2), and POSTs prepared batches
of 100 valid xAPI 2.0 statements (each evidence for a competency, so every statement also moves
a mastery estimate, writes its history row and two outbox events). The baseline, measured in the
same run: plain INSERTs of the same statement JSON into a bare `(id uuid, body jsonb)` table,
one multi-row INSERT of 100 per transaction from 8 concurrent connections. Ends with one JSON line: `statements_per_s`,
`p50_ms`, `p99_ms`, `bare_insert_rows_per_s`, `ratio_to_bare_insert`.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import psycopg.sql
from sqlalchemy.engine import make_url

from kit.auth import ensure_dev_signing_key, issue_token
from kit.migrate import upgrade

ADMIN_URL = os.environ.get("PLP_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASE = "plp_bench_ingest"
BATCH = 100
CLIENTS = 8
LEARNERS = 2_000
COMPETENCIES = 60
TENANT = "bench"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _recreate_database() -> str:
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return make_url(ADMIN_URL).set(database=DATABASE).render_as_string(hide_password=False)


def _statement(rng: random.Random) -> dict[str, Any]:
    learner = f"student-{rng.randrange(LEARNERS):05d}"
    competency = f"urn:case:bench:{rng.randrange(COMPETENCIES):03d}"
    item = rng.randrange(20)
    return {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "name": learner,
            "account": {"homePage": "https://sis.example", "name": learner},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://lms.example/items/{competency}/{item}",
            "definition": {
                "name": {"en-US": f"Practice {item}"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "extensions": {"https://plp.dev/xapi/extensions/competency": competency},
            },
        },
        "result": {
            "success": rng.random() < 0.7,
            "completion": True,
            "score": {"scaled": round(rng.random(), 2)},
            "duration": f"PT{rng.randrange(5, 300)}S",
        },
        "context": {
            "registration": str(uuid.uuid4()),
            "platform": "bench LMS",
            "contextActivities": {"parent": [{"id": "https://lms.example/courses/math-3"}]},
        },
        "timestamp": "2026-11-23T10:00:00.000Z",
    }


def _batches(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    return [orjson.dumps([_statement(rng) for _ in range(BATCH)]) for _ in range(count)]


def _analyze(url: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_service(url: str, var_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PLP_PROGRESS_DATABASE_URL": url,
        "PLP_VAR_DIR": str(var_dir),
        "PLP_LOG_LEVEL": "WARNING",
        "PLP_PROGRESS_DATABASE_POOL_SIZE": "12",
    }
    command = [
        sys.executable, "-m", "uvicorn", "services.progress_service.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--no-date-header", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env)


async def _wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the progress service did not become ready")


async def _ingest(base: str, token: str, batches: list[bytes], seconds: float) -> tuple[int, list[float], float]:
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Experience-API-Version": "2.0.0",
        "Content-Type": "application/json",
    }
    latencies: list[float] = []
    queue = iter(batches)
    stored = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal stored
        async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:
            for body in queue:
                if time.perf_counter() >= deadline:
                    break
                started = time.perf_counter()
                response = await http.post("/xapi/statements", content=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                stored += BATCH

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return stored, latencies, time.perf_counter() - started


async def _bare_insert(url: str, batches: list[bytes], seconds: float) -> float:
    async with await psycopg.AsyncConnection.connect(_libpq(url), autocommit=True) as conn:
        await conn.execute("DROP TABLE IF EXISTS bare_statement")
        await conn.execute("CREATE TABLE bare_statement (id uuid PRIMARY KEY, body jsonb NOT NULL)")
    rows = ([(s["id"], orjson.dumps(s).decode()) for s in orjson.loads(batch)] for batch in batches)
    inserted = 0
    deadline = time.perf_counter() + seconds

    async def writer() -> None:
        nonlocal inserted
        async with await psycopg.AsyncConnection.connect(_libpq(url)) as conn:
            for batch in rows:
                if time.perf_counter() >= deadline:
                    break
                values = psycopg.sql.SQL(", ").join([psycopg.sql.SQL("(%s, %s)")] * len(batch))
                query = psycopg.sql.SQL("INSERT INTO bare_statement (id, body) VALUES {}").format(values)
                await conn.execute(query, [v for r in batch for v in r])
                await conn.commit()
                inserted += len(batch)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(CLIENTS)))
    return inserted / (time.perf_counter() - started)


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = _recreate_database()
    upgrade("progress", url)
    batches = _batches(int(args.seconds * 100) + 50, seed=7)
    print(f"prepared {len(batches)} batches of {BATCH} statements")
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        key = ensure_dev_signing_key(var_dir / "keys" / "dev-signing-key.pem")
        token = issue_token(
            key, issuer="plp-dev", audience="plp", tenant_id=TENANT, sub="bench-lms", roles=["partner"],
            scopes=["statements/write", "statements/read"],
        )  # fmt: skip
        port = _free_port()
        service = _start_service(url, var_dir, port, args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(_wait_ready(base))
            asyncio.run(_ingest(base, token, _batches(40, seed=1), 3.0))  # warm up
            _analyze(url)  # as autovacuum would on a database in use: the planner needs statistics
            stored, latencies, elapsed = asyncio.run(_ingest(base, token, batches, args.seconds))
        finally:
            service.terminate()
            service.wait(timeout=30)
    bare = asyncio.run(_bare_insert(url, _batches(int(args.seconds * 400) + 50, seed=9), min(args.seconds, 10.0)))
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    per_s = stored / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    print(f"ingest: {stored} statements in {elapsed:.1f} s from {CLIENTS} clients, batches of {BATCH}")
    print(f"  {per_s:,.0f} statements/s, latency per batch p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    print(f"bare INSERT of the same JSON: {bare:,.0f} rows/s; ratio {per_s / bare:.2f}")
    print(
        json.dumps(
            {
                "statements_per_s": round(per_s),
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "bare_insert_rows_per_s": round(bare),
                "ratio_to_bare_insert": round(per_s / bare, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
