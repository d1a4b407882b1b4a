"""The `plp` command line."""

import json
from typing import Annotated

import typer

from kit.auth import ROLES, ensure_dev_signing_key, issue_token
from kit.errors import AppError
from kit.settings import AppSettings
from plp import dev, operations
from services.profile_service.scopes import KNOWN_SCOPES

app = typer.Typer(help="Operate the personalized learning platform.", no_args_is_help=True, add_completion=False)
seed_app = typer.Typer(help="Load data sets.", no_args_is_help=True)
app.add_typer(seed_app, name="seed")
client_app = typer.Typer(help="Manage a district's API clients (partner tools).", no_args_is_help=True)
app.add_typer(client_app, name="client")


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
