"""OneRoster CSV imports over REST (our extension): upload a zip, then follow its job.

`POST /imports` takes the zip itself as the body (`Content-Type: application/zip`, at most
`MAX_UPLOAD_BYTES`), refuses at once (400, nothing recorded) a file that is not OneRoster, and
answers 202 with a queued job that runs in the background; `GET /imports/{id}` follows it.
Every endpoint needs the roster write scope and sees only the caller's tenant.
"""

import asyncio
import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, FastAPI, Query, Request, Response, status
from fastapi import Path as PathParam
from pydantic import Field

from kit.auth import CurrentPrincipal
from kit.db import SessionDep
from services.profile_service import roster_import, scopes
from services.profile_service.models import ImportJob
from services.profile_service.oneroster_csv import RosterFileError
from services.profile_service.oneroster_errors import OneRosterError
from services.profile_service.oneroster_kinds import BASE_PATH, format_timestamp
from services.profile_service.oneroster_routes import require_scopes
from services.profile_service.oneroster_schemas import WireModel

logger = logging.getLogger(__name__)
router = APIRouter(prefix=BASE_PATH, tags=["oneroster imports"])
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})
JobIdPath = Annotated[str, PathParam(max_length=36, description="The import job's id.")]


class FileCounts(WireModel):
    """What became of one file's rows."""

    mode: str = Field(description="`bulk` or `delta`, from the manifest.")
    rows: int = Field(description="Data rows read so far.")
    created: int = Field(description="New objects.")
    updated: int = Field(description="Objects that changed.")
    unchanged: int = Field(description="Rows equal to what was stored (their `dateLastModified` stays).")
    deleted: int = Field(description="Objects marked `tobedeleted` (delta rows, or left out of a bulk file).")
    error: int = Field(description="Rows not imported; see `errors`.")


class RowErrorOut(WireModel):
    """One problem with one row."""

    file: str = Field(description="The CSV file, e.g. `users.csv`.")
    line: int = Field(description="The line in that file (the header is line 1).")
    field: str = Field(description="The column at fault.")
    reason: str = Field(description="What is wrong.")


class ImportJobSummary(WireModel):
    """An import job without its row errors."""

    id: str = Field(description="The job's id.")
    state: str = Field(description="`queued`, `running`, `succeeded` or `failed`.")
    filename: str = Field(description="The uploaded file's name.")
    created_by: str = Field(description="Who uploaded it (the token's subject).")
    created_at: str = Field(description="When it was uploaded.")
    started_at: str | None = Field(description="When it started running.")
    finished_at: str | None = Field(description="When it succeeded or failed.")
    progress: float = Field(description="0 to 1.")
    files: dict[str, FileCounts] = Field(description="Counts by file, for the files the manifest marks bulk or delta.")
    not_imported: list[str] = Field(description="Files the manifest lists that we do not import (gradebook...).")
    error_count: int = Field(description="Row errors found (only the first 1,000 are listed).")
    detail: str | None = Field(description="Why the job failed; nothing was imported then.")


class ImportJobOut(ImportJobSummary):
    """An import job with its first 1,000 row errors."""

    errors: list[RowErrorOut] = Field(description="The first 1,000 row errors.")


class ImportJobBody(WireModel):
    """`{"importJob": {...}}`."""

    import_job: ImportJobOut


class ImportJobList(WireModel):
    """`{"importJobs": [...]}`, newest first."""

    import_jobs: list[ImportJobSummary]


def _timestamp(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


def _summary(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "state": job.state,
        "filename": job.filename,
        "created_by": job.created_by,
        "created_at": format_timestamp(job.created_at),
        "started_at": _timestamp(job.started_at),
        "finished_at": _timestamp(job.finished_at),
        "progress": job.progress,
        "files": roster_import.file_counts(job),
        "not_imported": job.counts.get("notImported", []),
        "error_count": job.error_count,
        "detail": job.detail,
    }


def _require_write(principal: CurrentPrincipal) -> None:
    require_scopes(principal, (scopes.ROSTER_WRITE,), "Importing a roster")


async def _save_body(request: Request, path: Path) -> None:
    """Stream the request body to `path`, refusing (413) past `MAX_UPLOAD_BYTES`."""
    await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        async with await anyio.open_file(path, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise OneRosterError(413, "invaliddata", f"The zip is over {MAX_UPLOAD_BYTES >> 20} MB.", "body")
                await out.write(chunk)
    except BaseException:
        await anyio.Path(path).unlink(missing_ok=True)
        raise


def _state(app: FastAPI, name: str, make: Any) -> Any:
    """`app.state.<name>`, made on first use."""
    value = getattr(app.state, name, None)
    if value is None:
        value = make()
        setattr(app.state, name, value)
    return value


async def _run(app: FastAPI, job_id: str, path: Path) -> None:
    """Run one job (one at a time per process), then delete its zip."""
    lock: asyncio.Lock = _state(app, "import_lock", asyncio.Lock)
    try:
        async with lock:
            await roster_import.run_import(app.state.sessionmaker, job_id, path)
    except Exception:
        logger.exception("import job %s could not be recorded as finished", job_id)
    finally:
        await anyio.Path(path).unlink(missing_ok=True)


def _launch(app: FastAPI, job_id: str, path: Path) -> None:
    """Start the job in the background, keeping a reference so the task is not collected."""
    tasks: set[asyncio.Task[None]] = _state(app, "import_tasks", set)
    task = asyncio.create_task(_run(app, job_id, path), name=f"import-{job_id}")
    tasks.add(task)
    task.add_done_callback(tasks.discard)


@router.post(
    "/imports",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Import a OneRoster CSV zip (bulk or delta)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def create_import(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    filename: Annotated[
        str | None, Query(max_length=255, description="The file's name, shown in the job (default `upload.zip`).")
    ] = None,
) -> ImportJobBody:
    """Upload the zip as the body; 202 with the queued job (and its `Location`), or 400 if it is not OneRoster."""
    _require_write(principal)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ZIP_TYPES:
        raise OneRosterError(415, "unsupported", "Send the zip as the body with Content-Type: application/zip.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise OneRosterError(413, "invaliddata", f"The zip is over {MAX_UPLOAD_BYTES >> 20} MB.", "body")
    job_id = str(uuid.uuid4())
    path = request.app.state.settings.var_dir / "imports" / f"{job_id}.zip"
    await _save_body(request, path)
    try:
        job = await roster_import.start_import(
            session,
            principal.tenant_id,
            path,
            filename=filename or "upload.zip",
            created_by=principal.sub,
            job_id=job_id,
        )
    except RosterFileError as exc:
        await anyio.Path(path).unlink(missing_ok=True)
        raise OneRosterError(400, "invaliddata", str(exc), "body") from exc
    await session.commit()  # the job must be visible before it starts
    _launch(request.app, job.id, path)
    response.headers["Location"] = str(request.url_for("read_import", job_id=job.id))
    return ImportJobBody(import_job=ImportJobOut(**_summary(job), errors=[]))


@router.get("/imports/{job_id}", summary="Read an import job")
async def read_import(job_id: JobIdPath, principal: CurrentPrincipal, session: SessionDep) -> ImportJobBody:
    """The job: state, progress, counts by file and the first 1,000 row errors."""
    _require_write(principal)
    job = (await session.exec(roster_import.jobs_of_tenant(principal.tenant_id).where(ImportJob.id == job_id))).first()
    if job is None:
        raise OneRosterError(404, "unknownobject", f"No import job {job_id!r}.")
    errors = [RowErrorOut(**e) for e in job.errors]
    return ImportJobBody(import_job=ImportJobOut(**_summary(job), errors=errors))


@router.get("/imports", summary="List recent import jobs")
async def list_imports(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many jobs, newest first.")] = 20,
) -> ImportJobList:
    """The tenant's most recent jobs, newest first, without their row errors."""
    _require_write(principal)
    jobs = await session.exec(roster_import.jobs_of_tenant(principal.tenant_id).limit(limit))
    return ImportJobList(import_jobs=[ImportJobSummary(**_summary(job)) for job in jobs])
