"""Test tokens, signed like `plp token` with the session's development key."""

from pathlib import Path

from kit.auth import ensure_dev_signing_key, issue_token


class TokenFactory:
    """Makes bearer headers for test principals."""

    def __init__(self, var_dir: Path) -> None:
        self.key = ensure_dev_signing_key(var_dir / "keys" / "dev-signing-key.pem")

    def token(
        self, sub: str, *roles: str, tenant: str = "t1", scopes: tuple[str, ...] = (), ttl_seconds: int = 600
    ) -> str:
        """A signed token for `sub` in `tenant` with `roles` and `scopes`."""
        return issue_token(
            self.key,
            issuer="plp-dev",
            audience="plp",
            tenant_id=tenant,
            sub=sub,
            roles=roles,
            scopes=scopes,
            ttl_seconds=ttl_seconds,
        )

    def headers(self, sub: str, *roles: str, tenant: str = "t1", scopes: tuple[str, ...] = ()) -> dict[str, str]:
        """`Authorization` header for `sub`."""
        return {"Authorization": f"Bearer {self.token(sub, *roles, tenant=tenant, scopes=scopes)}"}
