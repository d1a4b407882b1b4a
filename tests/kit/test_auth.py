"""`kit.auth`: token verification with pinned algorithms, the dev signing key, and the dependencies."""

import base64
import hashlib
import hmac
import json
import stat
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI
from jwt.algorithms import OKPAlgorithm

from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.auth import (
    CLIENT_ROLES,
    CurrentPrincipal,
    Principal,
    TokenVerifier,
    ensure_dev_signing_key,
    issue_token,
    require_role,
    require_scope,
)
from kit.errors import PROBLEM_JSON, UnauthorizedError
from tests.kit.asgi import serve

ISSUER = "plp-dev"
AUDIENCE = "plp"


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims of a teacher in tenant `t1`; `overrides` replace (or, as None, remove) claims."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "t-a",
        "tenant": "t1",
        "roles": ["teacher"],
        "scope": "roster.read progress.read",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Ed25519PrivateKey, payload: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
    """`payload` signed with `key` as an EdDSA JWT."""
    return jwt.encode(payload, key, algorithm="EdDSA", headers=headers)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as in a JWT."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(payload: dict[str, Any]) -> str:
    """A token with `alg: none` and an empty signature."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}."


def hs256_token(secret: bytes, payload: dict[str, Any]) -> str:
    """A token MACed with HS256 using `secret` (the classic key-confusion forgery)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(mac)}"


class KeySetServer:
    """A local HTTP server publishing one identity provider's key set at `/jwks.json`."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        jwk = json.loads(OKPAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "EdDSA"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = self.path == "/jwks.json"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's naming)
                """Keep the test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def idp() -> Iterator[KeySetServer]:
    """A running key set server, shut down after the test."""
    server = KeySetServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    thread.join()


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    """Settings of an app whose var dir is fresh for the test."""
    return GatewaySettings(var_dir=tmp_path)


@pytest.fixture
def verifier(settings: GatewaySettings) -> TokenVerifier:
    """The verifier an app would build from `settings` (creates the dev key)."""
    return TokenVerifier.from_settings(settings)


@pytest.fixture
def dev_key(settings: GatewaySettings, verifier: TokenVerifier) -> Ed25519PrivateKey:
    """The development signing key the verifier trusts."""
    return ensure_dev_signing_key(settings.signing_key_file)


class TestTokenVerifierVerify:
    async def test_a_valid_token_gives_its_principal(self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey) -> None:
        token = sign(dev_key, claims())
        principal = await verifier.verify(token)
        assert principal == Principal(
            sub="t-a",
            tenant_id="t1",
            roles=frozenset({"teacher"}),
            scopes=frozenset({"roster.read", "progress.read"}),
            token=token,
        )
        assert principal.token == token

    async def test_a_token_without_scope_or_roles_has_none(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        principal = await verifier.verify(sign(dev_key, claims(roles=None, scope=None)))
        assert principal.roles == frozenset()
        assert principal.scopes == frozenset()

    async def test_a_scope_claim_given_as_a_list_is_read(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        principal = await verifier.verify(sign(dev_key, claims(scope=["roster.read", "progress.read"])))
        assert principal.scopes == frozenset({"roster.read", "progress.read"})

    @pytest.mark.parametrize("scope", [42, ["roster.read", 7], {"roster.read": True}])
    async def test_a_scope_claim_of_another_shape_is_refused(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey, scope: object
    ) -> None:
        with pytest.raises(UnauthorizedError, match="scope"):
            await verifier.verify(sign(dev_key, claims(scope=scope)))

    async def test_an_expired_token_is_refused(self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey) -> None:
        now = int(time.time())
        with pytest.raises(UnauthorizedError, match="expired"):
            await verifier.verify(sign(dev_key, claims(iat=now - 7200, exp=now - 3600)))

    async def test_a_token_without_expiry_is_refused(self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey) -> None:
        with pytest.raises(UnauthorizedError, match="exp"):
            await verifier.verify(sign(dev_key, claims(exp=None)))

    async def test_a_token_without_subject_is_refused(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(UnauthorizedError, match="sub"):
            await verifier.verify(sign(dev_key, claims(sub=None)))

    async def test_a_token_for_another_audience_is_refused(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(UnauthorizedError, match="Audience"):
            await verifier.verify(sign(dev_key, claims(aud="another-product")))

    async def test_a_token_of_an_untrusted_issuer_is_refused(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(UnauthorizedError, match="issuer is not trusted"):
            await verifier.verify(sign(dev_key, claims(iss="https://evil.example")))

    async def test_a_token_without_issuer_is_refused(self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey) -> None:
        with pytest.raises(UnauthorizedError, match="issuer is not trusted"):
            await verifier.verify(sign(dev_key, claims(iss=None)))

    async def test_a_token_signed_by_another_key_is_refused(self, verifier: TokenVerifier) -> None:
        with pytest.raises(UnauthorizedError, match="Signature"):
            await verifier.verify(sign(Ed25519PrivateKey.generate(), claims()))

    async def test_an_unsigned_alg_none_token_is_refused(self, verifier: TokenVerifier) -> None:
        with pytest.raises(UnauthorizedError, match="Invalid token"):
            await verifier.verify(unsigned_token(claims()))

    async def test_an_hs256_token_keyed_with_the_public_key_is_refused(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        public_pem = dev_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        public_raw = dev_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        for secret in (public_pem, public_raw):
            with pytest.raises(UnauthorizedError, match="alg"):
                await verifier.verify(hs256_token(secret, claims()))

    async def test_a_tampered_payload_is_refused(self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey) -> None:
        header, _, signature = sign(dev_key, claims()).split(".")
        forged_body = b64url(json.dumps(claims(roles=["admin"])).encode())
        with pytest.raises(UnauthorizedError, match="Signature"):
            await verifier.verify(f"{header}.{forged_body}.{signature}")

    async def test_something_that_is_not_a_jwt_is_refused(self, verifier: TokenVerifier) -> None:
        with pytest.raises(UnauthorizedError, match="Invalid token"):
            await verifier.verify("not-a-token")

    @pytest.mark.parametrize("tenant", [None, "", 42])
    async def test_a_token_without_a_tenant_string_is_refused(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey, tenant: object
    ) -> None:
        with pytest.raises(UnauthorizedError, match="tenant"):
            await verifier.verify(sign(dev_key, claims(tenant=tenant)))

    async def test_roles_that_are_not_a_list_are_refused(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(UnauthorizedError, match="roles must be a list"):
            await verifier.verify(sign(dev_key, claims(roles="admin")))

    async def test_unknown_roles_are_dropped(self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey) -> None:
        principal = await verifier.verify(sign(dev_key, claims(roles=["teacher", "superuser", "root"])))
        assert principal.roles == frozenset({"teacher"})


class TestTokenVerifierFromSettings:
    def test_dev_tokens_trust_the_configured_issuer_with_eddsa_only(self, tmp_path: Path) -> None:
        verifier = TokenVerifier.from_settings(GatewaySettings(var_dir=tmp_path, jwt_issuer="dev-issuer"))
        assert list(verifier.issuers) == ["dev-issuer", "plp-clients"]
        assert verifier.issuers["dev-issuer"].algorithms == ("EdDSA",)
        assert verifier.audience == "plp"

    async def test_without_dev_tokens_or_jwks_only_client_tokens_are_trusted(self, tmp_path: Path) -> None:
        settings = GatewaySettings(var_dir=tmp_path, dev_tokens=False)
        verifier = TokenVerifier.from_settings(settings)
        assert list(verifier.issuers) == ["plp-clients"]
        token = sign(ensure_dev_signing_key(settings.signing_key_file), claims())
        with pytest.raises(UnauthorizedError, match="issuer is not trusted"):
            await verifier.verify(token)

    async def test_a_jwks_issuer_is_trusted_through_its_key_set(self, tmp_path: Path, idp: KeySetServer) -> None:
        settings = GatewaySettings(
            var_dir=tmp_path,
            jwt_issuer="https://idp.example",
            jwt_jwks_url=f"{idp.base_url}/jwks.json",
            dev_tokens=False,
        )
        verifier = TokenVerifier.from_settings(settings)
        token = sign(idp.key, claims(iss="https://idp.example"), headers={"kid": "idp-1"})
        principal = await verifier.verify(token)
        assert (principal.sub, principal.tenant_id) == ("t-a", "t1")

    async def test_the_dev_key_cannot_sign_for_the_jwks_issuer(self, tmp_path: Path, idp: KeySetServer) -> None:
        settings = GatewaySettings(
            var_dir=tmp_path, jwt_issuer="https://idp.example", jwt_jwks_url=f"{idp.base_url}/jwks.json"
        )
        verifier = TokenVerifier.from_settings(settings)
        assert set(verifier.issuers) == {"https://idp.example", "plp-dev", "plp-clients"}
        dev_key = ensure_dev_signing_key(settings.signing_key_file)
        assert (await verifier.verify(sign(dev_key, claims(iss="plp-dev")))).sub == "t-a"
        forged = sign(dev_key, claims(iss="https://idp.example"), headers={"kid": "idp-1"})
        with pytest.raises(UnauthorizedError, match="Signature"):
            await verifier.verify(forged)

    async def test_an_unreachable_key_set_refuses_the_token(self, tmp_path: Path, idp: KeySetServer) -> None:
        settings = GatewaySettings(
            var_dir=tmp_path,
            jwt_issuer="https://idp.example",
            jwt_jwks_url=f"{idp.base_url}/missing.json",
            dev_tokens=False,
        )
        verifier = TokenVerifier.from_settings(settings)
        token = sign(idp.key, claims(iss="https://idp.example"), headers={"kid": "idp-1"})
        with pytest.raises(UnauthorizedError, match="Invalid token"):
            await verifier.verify(token)


class TestClientTokenIssuer:
    """API clients' tokens: trusted by every app with the shared key, whatever `dev_tokens` says."""

    def client_token(self, key: Ed25519PrivateKey, *roles: str, issuer: str = "plp-clients") -> str:
        return issue_token(
            key,
            issuer=issuer,
            audience=AUDIENCE,
            tenant_id="riverbend",
            sub="client-1",
            roles=roles or ("partner",),
            scopes=["roster.read"],
        )

    @pytest.mark.parametrize("dev_tokens", [True, False])
    async def test_a_client_token_is_accepted(self, tmp_path: Path, dev_tokens: bool) -> None:
        settings = GatewaySettings(var_dir=tmp_path, dev_tokens=dev_tokens)
        verifier = TokenVerifier.from_settings(settings)
        principal = await verifier.verify(self.client_token(ensure_dev_signing_key(settings.signing_key_file)))
        assert (principal.sub, principal.tenant_id) == ("client-1", "riverbend")
        assert principal.roles == CLIENT_ROLES
        assert principal.scopes == frozenset({"roster.read"})

    async def test_beside_a_jwks_issuer_a_client_token_is_accepted(self, tmp_path: Path, idp: KeySetServer) -> None:
        settings = GatewaySettings(
            var_dir=tmp_path,
            jwt_issuer="https://idp.example",
            jwt_jwks_url=f"{idp.base_url}/jwks.json",
            dev_tokens=False,
        )
        verifier = TokenVerifier.from_settings(settings)
        assert set(verifier.issuers) == {"https://idp.example", "plp-clients"}
        principal = await verifier.verify(self.client_token(ensure_dev_signing_key(settings.signing_key_file)))
        assert principal.sub == "client-1"

    async def test_the_issuer_follows_the_setting(self, tmp_path: Path) -> None:
        settings = GatewaySettings(var_dir=tmp_path, dev_tokens=False, client_token_issuer="district-clients")
        verifier = TokenVerifier.from_settings(settings)
        key = ensure_dev_signing_key(settings.signing_key_file)
        assert (await verifier.verify(self.client_token(key, issuer="district-clients"))).sub == "client-1"
        with pytest.raises(UnauthorizedError, match="issuer is not trusted"):
            await verifier.verify(self.client_token(key))

    @pytest.mark.parametrize("dev_tokens", [True, False])
    async def test_a_client_token_signed_by_another_key_is_refused(self, tmp_path: Path, dev_tokens: bool) -> None:
        verifier = TokenVerifier.from_settings(GatewaySettings(var_dir=tmp_path, dev_tokens=dev_tokens))
        with pytest.raises(UnauthorizedError, match="Signature"):
            await verifier.verify(self.client_token(Ed25519PrivateKey.generate()))

    async def test_a_client_token_carries_no_role_but_partner(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        principal = await verifier.verify(self.client_token(dev_key, "admin", "teacher", "partner"))
        assert principal.roles == frozenset({"partner"})
        assert (await verifier.verify(self.client_token(dev_key, "admin"))).roles == frozenset()

    async def test_with_dev_tokens_off_a_development_token_is_still_refused(self, tmp_path: Path) -> None:
        settings = GatewaySettings(var_dir=tmp_path, dev_tokens=False)
        verifier = TokenVerifier.from_settings(settings)
        key = ensure_dev_signing_key(settings.signing_key_file)
        with pytest.raises(UnauthorizedError, match="issuer is not trusted"):
            await verifier.verify(self.client_token(key, issuer=settings.dev_issuer))

    @pytest.mark.parametrize(
        "overrides",
        [
            {"jwt_issuer": "plp-clients"},
            {
                "jwt_issuer": "https://idp.example",
                "jwt_jwks_url": "https://idp.example/jwks",
                "client_token_issuer": "plp-dev",
            },
            {
                "jwt_issuer": "https://idp.example",
                "jwt_jwks_url": "https://idp.example/jwks",
                "client_token_issuer": "https://idp.example",
            },
        ],
    )
    def test_the_client_issuer_must_differ_from_the_others(self, tmp_path: Path, overrides: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="PLP_CLIENT_TOKEN_ISSUER must differ"):
            GatewaySettings(var_dir=tmp_path, **overrides)


class TestIssueToken:
    async def test_an_issued_token_verifies_with_its_claims(
        self, verifier: TokenVerifier, dev_key: Ed25519PrivateKey
    ) -> None:
        token = issue_token(
            dev_key,
            issuer=ISSUER,
            audience=AUDIENCE,
            tenant_id="t9",
            sub="g-a1",
            roles=["guardian", "guardian"],
            scopes=["b", "a"],
            ttl_seconds=120,
        )
        principal = await verifier.verify(token)
        assert (principal.sub, principal.tenant_id) == ("g-a1", "t9")
        assert principal.roles == frozenset({"guardian"})
        assert principal.scopes == frozenset({"a", "b"})
        raw = jwt.decode(token, options={"verify_signature": False})
        assert raw["roles"] == ["guardian"]
        assert raw["scope"] == "a b"
        assert raw["exp"] - raw["iat"] == 120
        assert jwt.get_unverified_header(token)["alg"] == "EdDSA"

    def test_each_token_has_its_own_id(self, dev_key: Ed25519PrivateKey) -> None:
        first, second = (
            jwt.decode(
                issue_token(dev_key, issuer=ISSUER, audience=AUDIENCE, tenant_id="t1", sub="x"),
                options={"verify_signature": False},
            )["jti"]
            for _ in range(2)
        )
        assert first != second

    def test_unknown_roles_are_refused(self, dev_key: Ed25519PrivateKey) -> None:
        with pytest.raises(ValueError, match="unknown roles: root, superuser"):
            issue_token(
                dev_key,
                issuer=ISSUER,
                audience=AUDIENCE,
                tenant_id="t1",
                sub="x",
                roles=["teacher", "superuser", "root"],
            )


class TestEnsureDevSigningKey:
    def test_the_key_is_created_with_owner_only_permissions(self, tmp_path: Path) -> None:
        path = tmp_path / "nested" / "keys" / "dev.pem"
        ensure_dev_signing_key(path)
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_a_second_call_reuses_the_same_key(self, tmp_path: Path) -> None:
        path = tmp_path / "dev.pem"
        first = ensure_dev_signing_key(path)
        pem_before = path.read_bytes()
        second = ensure_dev_signing_key(path)
        raw = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert first.public_key().public_bytes(*raw) == second.public_key().public_bytes(*raw)
        assert path.read_bytes() == pem_before

    def test_racing_creators_all_load_the_one_whole_key(self, tmp_path: Path) -> None:
        path = tmp_path / "keys" / "dev.pem"
        barrier = threading.Barrier(8)
        loaded: list[bytes] = []

        def create() -> None:
            barrier.wait()
            key = ensure_dev_signing_key(path)
            loaded.append(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

        threads = [threading.Thread(target=create) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(loaded) == 8
        assert len(set(loaded)) == 1
        assert [p.name for p in path.parent.iterdir()] == ["dev.pem"]

    def test_a_key_of_another_type_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "ec.pem"
        path.write_bytes(
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        with pytest.raises(ValueError, match="not an Ed25519 private key"):
            ensure_dev_signing_key(path)


class TestPrincipal:
    def test_has_role_is_true_for_any_held_role(self) -> None:
        principal = Principal(sub="x", tenant_id="t1", roles=frozenset({"teacher"}), scopes=frozenset())
        assert principal.has_role("admin", "teacher")
        assert not principal.has_role("admin", "guardian")
        assert not principal.has_role()

    def test_has_scope_is_true_for_any_held_scope(self) -> None:
        principal = Principal(sub="x", tenant_id="t1", roles=frozenset(), scopes=frozenset({"b"}))
        assert principal.has_scope("a", "b")
        assert not principal.has_scope("a")

    def test_the_token_is_kept_out_of_the_repr(self) -> None:
        principal = Principal(sub="x", tenant_id="t1", roles=frozenset(), scopes=frozenset(), token="secret-token")
        assert "secret-token" not in repr(principal)


def guarded_app(settings: GatewaySettings) -> FastAPI:
    """A tiny app with routes behind the kit's identity dependencies."""
    app = create_base_app(settings, title="auth-test", description="Routes behind identity dependencies.")

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"sub": principal.sub, "tenant": principal.tenant_id}

    @app.get("/scoped")
    async def scoped(principal: Principal = Depends(require_scope("a", "b"))) -> dict[str, str]:  # noqa: B008
        return {"sub": principal.sub}

    @app.get("/teachers")
    async def teachers(principal: Principal = Depends(require_role("teacher"))) -> dict[str, str]:  # noqa: B008
        return {"sub": principal.sub}

    return app


@pytest.fixture
async def client(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the guarded tiny app."""
    async with serve(guarded_app(settings)) as client:
        yield client


def bearer(key: Ed25519PrivateKey, *roles: str, scopes: tuple[str, ...] = ()) -> dict[str, str]:
    """An `Authorization` header for user `u1` in tenant `t1`."""
    token = issue_token(key, issuer=ISSUER, audience=AUDIENCE, tenant_id="t1", sub="u1", roles=roles, scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(response: httpx.Response) -> None:
    """A 401 problem that asks for a bearer token."""
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


class TestCurrentPrincipal:
    async def test_a_valid_bearer_token_identifies_the_caller(
        self, client: httpx.AsyncClient, dev_key: Ed25519PrivateKey
    ) -> None:
        response = await client.get("/me", headers=bearer(dev_key, "learner"))
        assert response.status_code == 200
        assert response.json() == {"sub": "u1", "tenant": "t1"}

    async def test_the_scheme_is_case_insensitive(self, client: httpx.AsyncClient, dev_key: Ed25519PrivateKey) -> None:
        token = bearer(dev_key)["Authorization"].removeprefix("Bearer ")
        response = await client.get("/me", headers={"Authorization": f"bearer {token}"})
        assert response.status_code == 200

    async def test_no_authorization_header_is_401_asking_for_a_bearer(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/me")
        assert_unauthorized(response)
        assert response.json()["detail"] == "A bearer token is required."

    async def test_another_scheme_is_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/me", headers={"Authorization": "Basic dTE6cGFzc3dvcmQ="}))

    async def test_an_empty_bearer_is_401(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/me", headers={"Authorization": "Bearer   "}))

    async def test_an_invalid_token_is_401(self, client: httpx.AsyncClient) -> None:
        token = issue_token(Ed25519PrivateKey.generate(), issuer=ISSUER, audience=AUDIENCE, tenant_id="t1", sub="u1")
        response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert_unauthorized(response)
        assert response.json()["detail"].startswith("Invalid token")


class TestRequireScope:
    async def test_a_caller_without_the_scopes_is_403(
        self, client: httpx.AsyncClient, dev_key: Ed25519PrivateKey
    ) -> None:
        response = await client.get("/scoped", headers=bearer(dev_key, "partner", scopes=("c",)))
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM_JSON
        body = response.json()
        assert body["code"] == "forbidden"
        assert body["detail"] == "This requires one of the scopes: a b."
        assert "www-authenticate" not in response.headers

    @pytest.mark.parametrize("scope", ["a", "b"])
    async def test_a_holder_of_either_scope_is_admitted(
        self, client: httpx.AsyncClient, dev_key: Ed25519PrivateKey, scope: str
    ) -> None:
        response = await client.get("/scoped", headers=bearer(dev_key, "partner", scopes=(scope, "c")))
        assert response.status_code == 200
        assert response.json() == {"sub": "u1"}

    async def test_an_anonymous_caller_is_401_not_403(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/scoped"))


class TestRequireRole:
    async def test_a_caller_without_the_role_is_403(
        self, client: httpx.AsyncClient, dev_key: Ed25519PrivateKey
    ) -> None:
        response = await client.get("/teachers", headers=bearer(dev_key, "learner", "guardian"))
        assert response.status_code == 403
        assert response.json()["detail"] == "This requires one of the roles: teacher."

    async def test_a_holder_of_the_role_is_admitted(
        self, client: httpx.AsyncClient, dev_key: Ed25519PrivateKey
    ) -> None:
        response = await client.get("/teachers", headers=bearer(dev_key, "guardian", "teacher"))
        assert response.status_code == 200

    async def test_an_anonymous_caller_is_401_not_403(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/teachers"))
