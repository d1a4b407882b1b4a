"""Fixtures of the pathway service tests: unauthenticated callers, and no access answers kept between tests."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kit.auth import issue_token
from kit.learner_access import LearnerAccess
from tests.conftest import Apps
from tests.tokens import TokenFactory

UNAUTHENTICATED = ("no_token", "garbage_token", "expired_token", "foreign_signature")


@pytest.fixture(params=UNAUTHENTICATED)
def unauthenticated(request: pytest.FixtureRequest, tokens: TokenFactory) -> dict[str, str]:
    """Headers of a caller the services must not recognise (an admin's claims, where there are claims)."""
    kind: str = request.param
    if kind == "no_token":
        return {}
    if kind == "garbage_token":
        return {"Authorization": "Bearer not-a-jwt"}
    if kind == "expired_token":
        return {"Authorization": f"Bearer {tokens.token('admin', 'admin', ttl_seconds=-120)}"}
    forged = issue_token(
        Ed25519PrivateKey.generate(), issuer="plp-dev", audience="plp", tenant_id="t1", sub="admin", roles=("admin",)
    )
    return {"Authorization": f"Bearer {forged}"}


@pytest.fixture(autouse=True)
def _forget_learner_access(request: pytest.FixtureRequest) -> None:
    """Start each test that uses the apps without the relations cached by earlier tests (their rosters are gone)."""
    if "apps" not in request.fixturenames:
        return
    apps: Apps = request.getfixturevalue("apps")
    for app in (apps.progress, apps.pathway):
        access: LearnerAccess = app.state.learner_access
        access._cache.clear()
