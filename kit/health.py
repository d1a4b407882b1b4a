"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can do its work)."""

from collections.abc import Awaitable, Callable, Mapping

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from kit.migrate import current_revision

ReadinessCheck = Callable[[Request], Awaitable[None]]


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    """Routes `/healthz` and `/readyz`; `/readyz` answers 503 naming each failing check."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Dependencies are reachable and migrations are at head")
    async def readyz(request: Request) -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check(request)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failed: {exc}"
        ready = all(v == "ok" for v in results.values())
        body = {"status": "ready" if ready else "not_ready", "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


def database_checks(head: str | None) -> dict[str, ReadinessCheck]:
    """Readiness of a service with a database: reachable, and migrated to `head`."""

    async def database(request: Request) -> None:
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def migrations(request: Request) -> None:
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            current = await conn.run_sync(current_revision)
        if current != head:
            raise RuntimeError(f"database at {current}, code expects {head}")

    return {"database": database, "migrations": migrations}
