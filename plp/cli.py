"""The `plp` command line."""

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kit.auth import ROLES, ensure_dev_signing_key, issue_token
from kit.errors import AppError
from kit.settings import AppSettings
from plp import dev, operations
from services.profile_service import roster_import
from services.profile_service.oneroster_csv import RosterFileError
from services.profile_service.scopes import KNOWN_SCOPES

app = typer.Typer(help="Operate the personalized learning platform.", no_args_is_help=True, add_completion=False)
seed_app = typer.Typer(help="Load data sets.", no_args_is_help=True)
app.add_typer(seed_app, name="seed")
client_app = typer.Typer(help="Manage a district's API clients (partner tools).", no_args_is_help=True)
app.add_typer(client_app, name="client")
roster_app = typer.Typer(help="Load a district's roster.", no_args_is_help=True)
app.add_typer(roster_app, name="roster")
mastery_app = typer.Typer(help="Tune how mastery is estimated.", no_args_is_help=True)
app.add_typer(mastery_app, name="mastery")


@app.command()
def migrate() -> None:
    """Upgrade every service's database to the newest migration."""
    for service, url in operations.migrate_all().items():
        typer.echo(f"{service}: at head ({url})")


@seed_app.command("demo")
def seed_demo() -> None:
    """Load the demo district (tenant `demo`); running it again adds nothing."""
    try:
        counts = operations.seed_demo()
    except operations.NotMigratedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"tenant": "demo", "added": counts}))


@client_app.command("create")
def create_client(
    tenant: Annotated[str, typer.Option(help="The district id, e.g. riverbend; created if new.")],
    scopes: Annotated[str, typer.Option(help=f"Space-separated scopes: {' '.join(sorted(KNOWN_SCOPES))}.")],
    name: Annotated[str | None, typer.Option(help="What the client is, e.g. the partner's product.")] = None,
) -> None:
    """Register an API client; its id and secret are printed once, as JSON, on the last line."""
    try:
        created = operations.create_client(tenant, scopes.split(), name)
    except operations.NotMigratedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except AppError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(2) from exc
    if created.tenant_created:
        typer.echo(f"created tenant {created.tenant_id}", err=True)
    typer.echo(
        f"created client {created.client_id} of tenant {created.tenant_id} with scopes {' '.join(created.scopes)}; "
        "keep the secret now, it is not shown again",
        err=True,
    )
    typer.echo(json.dumps({"client_id": created.client_id, "client_secret": created.client_secret}))


@client_app.command("list")
def list_clients(tenant: Annotated[str, typer.Option(help="The district id, e.g. riverbend.")]) -> None:
    """Print the tenant's API clients, one JSON object a line (no secrets)."""
    try:
        clients = operations.list_clients(tenant)
    except operations.NotMigratedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except AppError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(2) from exc
    if not clients:
        typer.echo(f"tenant {tenant} has no API clients", err=True)
    for client in clients:
        typer.echo(json.dumps(client))


@client_app.command("revoke")
def revoke_client(client_id: Annotated[str, typer.Argument(help="The client to revoke.")]) -> None:
    """Revoke an API client: it gets no new tokens (tokens already issued expire within the hour)."""
    try:
        revoked = operations.revoke_client(client_id)
    except (operations.NotMigratedError, AppError) as exc:
        typer.echo(exc.detail if isinstance(exc, AppError) else str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(revoked))


def _file_line(name: str, counts: dict[str, Any]) -> str:
    outcomes = ", ".join(f"{counts[o]} {o}" for o in ("created", "updated", "unchanged", "deleted", "error"))
    return f"{name} ({counts['mode']}): {counts['rows']} rows: {outcomes}"


@roster_app.command("import")
def import_roster(
    file: Annotated[
        Path, typer.Argument(help="A OneRoster 1.2 (or 1.1) CSV zip.", exists=True, dir_okay=False, readable=True)
    ],
    tenant: Annotated[str, typer.Option(help="The district id, e.g. riverbend; created if new.")],
    show_errors: Annotated[int, typer.Option(help="How many row errors to print.")] = 20,
) -> None:
    """Import a OneRoster CSV zip (bulk or delta, as its manifest says); the summary is JSON on the last line.

    Exits 0 when the import finished (row errors are listed, not fatal), 1 when the database is not
    migrated, 2 when the file or tenant is refused, 3 when the import failed (nothing was written).
    """
    with typer.progressbar(length=1000, label="importing", file=sys.stderr) as bar:
        shown = 0

        def advance(progress: float) -> None:
            nonlocal shown
            step = int(progress * 1000) - shown
            if step > 0:
                bar.update(step)
                shown += step

        try:
            job = operations.import_roster(file, tenant, advance)
        except operations.NotMigratedError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
        except RosterFileError as exc:
            typer.echo(f"refused {file}: {exc}", err=True)
            raise typer.Exit(2) from exc
        except AppError as exc:
            typer.echo(exc.detail, err=True)
            raise typer.Exit(2) from exc
    files = roster_import.file_counts(job)
    for name, counts in files.items():
        typer.echo(_file_line(name, counts))
    for name in job.counts.get("notImported", []):
        typer.echo(f"{name}: not imported")
    if job.error_count:
        typer.echo(f"{job.error_count} row error(s); the first {min(show_errors, len(job.errors))}:")
        for error in job.errors[:show_errors]:
            typer.echo(f"  {error['file']}:{error['line']} {error['field']}: {error['reason']}")
    if job.state != "succeeded":
        typer.echo(f"import {job.id} failed: {job.detail}", err=True)
    summary = {"job": job.id, "tenant": tenant, "state": job.state, "error_count": job.error_count, "files": files}
    typer.echo(json.dumps(summary))
    if job.state != "succeeded":
        raise typer.Exit(3)


@mastery_app.command("fit")
def fit_mastery(tenant: Annotated[str, typer.Option(help="The district id, e.g. riverbend.")]) -> None:
    """Fit the BKT parameters (per competency, by EM) and learner weights on the tenant's stored evidence.

    Later statements are estimated with them; the summary is JSON on the last line. Exits 1 when
    the database is not migrated.
    """
    try:
        summary = operations.fit_mastery(tenant)
    except operations.NotMigratedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"fitted {summary.competencies} competencies on {summary.responses} responses "
        f"(log-likelihood {summary.log_likelihood:.1f})"
    )
    typer.echo(json.dumps(dataclasses.asdict(summary)))


@app.command("dev")
def run_dev(
    gateway_port: int = 8000,
    profile_port: int = 8001,
    pathway_port: int = 8002,
    progress_port: int = 8003,
    seed: Annotated[bool, typer.Option(help="Load the demo district first.")] = True,
) -> None:
    """Migrate, load the demo district, and run the four apps on 127.0.0.1 until Ctrl-C."""
    ensure_dev_signing_key(AppSettings().signing_key_file)
    migrate()
    if seed:
        seed_demo()
    ports = dev.Ports(gateway=gateway_port, profile=profile_port, pathway=pathway_port, progress=progress_port)
    raise typer.Exit(dev.run(ports))


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="The tenant (district id), e.g. demo.")],
    sub: Annotated[str, typer.Option(help="The subject: a user's sourcedId or a client id.")],
    role: Annotated[list[str] | None, typer.Option(help=f"A role ({', '.join(sorted(ROLES))}); repeatable.")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="A scope; repeatable.")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a development token signed by the local issuer (trusted while PLP_DEV_TOKENS is on)."""
    settings = AppSettings()
    roles = role or []
    unknown = sorted(set(roles) - ROLES)
    if unknown:
        raise typer.BadParameter(f"unknown role {', '.join(unknown)}; choose from {', '.join(sorted(ROLES))}")
    key = ensure_dev_signing_key(settings.signing_key_file)
    typer.echo(
        issue_token(
            key,
            issuer=settings.dev_issuer,
            audience=settings.jwt_audience,
            tenant_id=tenant,
            sub=sub,
            roles=roles,
            scopes=scope or [],
            ttl_seconds=ttl,
        )
    )


def main() -> None:
    """Entry point of the `plp` script."""
    app()
