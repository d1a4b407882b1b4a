"""`POST /oauth/token` (OAuth 2.0 client credentials) and the API client logic behind it.

Clients are registered with `api_clients.create_client`; the roster comes from `tests.factories`
(tenants `a` and `b` use the same ids, learners `l-a1`, `l-a2`, `l-b1`).
"""

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from sqlmodel import select

from kit.errors import BadRequestError
from services.profile_service import api_clients
from services.profile_service.models import ApiClient, RosterUser, Tenant
from services.profile_service.scopes import DEMOGRAPHICS_READ, ROSTER_CORE_READ, ROSTER_READ, ROSTER_WRITE
from tests.conftest import Apps
from tests.factories import make_roster

FORM = "application/x-www-form-urlencoded"
GRANT = {"grant_type": "client_credentials"}


async def register(
    apps: Apps, tenant: str = "a", scopes: tuple[str, ...] = (ROSTER_READ,), name: str | None = None
) -> tuple[str, str]:
    """A new client of `tenant` holding `scopes`: its id and secret."""
    async with apps.profile.state.sessionmaker() as session:
        client, secret = await api_clients.create_client(session, tenant, scopes, name)
        await session.commit()
    return client.client_id, secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    """An HTTP Basic header for the client (RFC 6749 §2.3.1: id and secret form-encoded first)."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return {"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"}


def token_of(response: httpx.Response) -> dict[str, Any]:
    """The body of a successful token response, after checking the RFC 6749 §5.1 essentials."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body: dict[str, Any] = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    return body


def oauth_error(response: httpx.Response, status: int, error: str) -> str:
    """The `error_description` of an RFC 6749 §5.2 error, after checking status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    description: str = body["error_description"]
    return description


def invalid_client(response: httpx.Response) -> None:
    """A 401 `invalid_client` with the Basic challenge."""
    oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="plp"'


def bearer(body: dict[str, Any]) -> dict[str, str]:
    """The `Authorization` header carrying a token response's access token."""
    return {"Authorization": f"Bearer {body['access_token']}"}


class TestClientSecretBasic:
    async def test_basic_credentials_get_a_token(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        body = token_of(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret)))
        assert body["scope"] == ROSTER_READ

    async def test_fully_percent_encoded_credentials_are_decoded(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        pair = ":".join("".join(f"%{byte:02X}" for byte in part.encode()) for part in (client_id, secret))
        headers = {"Authorization": f"basic {base64.b64encode(pair.encode()).decode()}"}
        token_of(await profile.post("/oauth/token", data=GRANT, headers=headers))

    @pytest.mark.parametrize(
        "header",
        [
            "Basic not-base64!",
            f"Basic {base64.b64encode(b'no-colon').decode()}",
            "Basic " + base64.b64encode(b"\xff\xfe:secret").decode(),
        ],
    )
    async def test_malformed_basic_credentials_are_invalid_client(
        self, apps: Apps, profile: httpx.AsyncClient, header: str
    ) -> None:
        invalid_client(await profile.post("/oauth/token", data=GRANT, headers={"Authorization": header}))

    async def test_a_form_client_id_matching_the_basic_one_is_allowed(
        self, apps: Apps, profile: httpx.AsyncClient
    ) -> None:
        client_id, secret = await register(apps)
        data = {**GRANT, "client_id": client_id}
        token_of(await profile.post("/oauth/token", data=data, headers=basic(client_id, secret)))

    async def test_a_form_client_id_differing_from_the_basic_one_is_invalid_request(
        self, apps: Apps, profile: httpx.AsyncClient
    ) -> None:
        client_id, secret = await register(apps)
        other_id, _ = await register(apps)
        data = {**GRANT, "client_id": other_id}
        response = await profile.post("/oauth/token", data=data, headers=basic(client_id, secret))
        oauth_error(response, 400, "invalid_request")


class TestClientSecretPost:
    async def test_form_credentials_get_a_token(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps, scopes=(ROSTER_READ, DEMOGRAPHICS_READ))
        data = {**GRANT, "client_id": client_id, "client_secret": secret}
        body = token_of(await profile.post("/oauth/token", data=data))
        assert body["scope"].split() == sorted([ROSTER_READ, DEMOGRAPHICS_READ])

    async def test_a_client_id_without_a_secret_is_invalid_client(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, _ = await register(apps)
        invalid_client(await profile.post("/oauth/token", data={**GRANT, "client_id": client_id}))


class TestTheIssuedToken:
    async def test_it_names_the_client_its_tenant_and_the_partner_role(
        self, apps: Apps, profile: httpx.AsyncClient
    ) -> None:
        client_id, secret = await register(apps, tenant="riverbend")
        body = token_of(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret)))
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert (claims["iss"], claims["aud"], claims["sub"]) == ("plp-clients", "plp", client_id)
        assert (claims["tenant"], claims["roles"], claims["scope"]) == ("riverbend", ["partner"], ROSTER_READ)
        assert claims["exp"] - claims["iat"] == 3600
        assert jwt.get_unverified_header(body["access_token"])["alg"] == "EdDSA"

    async def test_it_reads_the_roster_of_the_profile_service(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        await make_roster(apps.profile, "a")
        client_id, secret = await register(apps, tenant="a")
        body = token_of(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret)))
        response = await profile.get("/learners", headers=bearer(body))
        assert response.status_code == 200, response.text
        assert [learner["sourcedId"] for learner in response.json()] == ["l-a1", "l-a2", "l-b1"]

    async def test_the_other_apps_accept_it(
        self, apps: Apps, profile: httpx.AsyncClient, progress: httpx.AsyncClient
    ) -> None:
        await make_roster(apps.profile, "a")
        client_id, secret = await register(apps, tenant="a", scopes=(ROSTER_CORE_READ,))
        body = token_of(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret)))
        response = await progress.get("/learners/l-a1/mastery", headers=bearer(body))
        assert response.status_code == 200, response.text

    async def test_without_a_roster_read_scope_it_sees_no_learner(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        await make_roster(apps.profile, "a")
        client_id, secret = await register(apps, tenant="a", scopes=(DEMOGRAPHICS_READ,))
        body = token_of(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret)))
        response = await profile.get("/learners", headers=bearer(body))
        assert response.status_code == 200
        assert response.json() == []


class TestTenancy:
    async def test_a_client_reads_only_its_own_tenant(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        await make_roster(apps.profile, "a", "b")
        async with apps.profile.state.sessionmaker() as session:
            session.add(
                RosterUser(tenant_id="b", sourced_id="only-in-b", role="student", given_name="B", family_name="Only")
            )
            await session.commit()
        client_id, secret = await register(apps, tenant="a")
        body = token_of(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret)))

        listed = await profile.get("/learners", headers=bearer(body))
        assert [learner["sourcedId"] for learner in listed.json()] == ["l-a1", "l-a2", "l-b1"]
        assert listed.headers["x-total-count"] == "3"
        assert (await profile.get("/learners/only-in-b", headers=bearer(body))).status_code == 404


class TestScopeNarrowing:
    async def test_requested_scopes_are_narrowed_to_the_held_ones(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps, scopes=(ROSTER_READ, ROSTER_CORE_READ))
        data = {**GRANT, "scope": f"{ROSTER_CORE_READ} {ROSTER_WRITE} https://example.com/unknown"}
        body = token_of(await profile.post("/oauth/token", data=data, headers=basic(client_id, secret)))
        assert body["scope"] == ROSTER_CORE_READ
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["scope"] == ROSTER_CORE_READ

    async def test_a_blank_scope_means_every_held_scope(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps, scopes=(ROSTER_READ, ROSTER_CORE_READ))
        data = {**GRANT, "scope": ""}
        body = token_of(await profile.post("/oauth/token", data=data, headers=basic(client_id, secret)))
        assert body["scope"].split() == sorted([ROSTER_READ, ROSTER_CORE_READ])

    async def test_requesting_only_unheld_scopes_is_invalid_scope(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps, scopes=(ROSTER_CORE_READ,))
        data = {**GRANT, "scope": f"{ROSTER_WRITE} {DEMOGRAPHICS_READ}"}
        response = await profile.post("/oauth/token", data=data, headers=basic(client_id, secret))
        oauth_error(response, 400, "invalid_scope")
        assert "www-authenticate" not in response.headers


class TestGrantType:
    async def test_an_unknown_grant_type_is_unsupported(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        data = {"grant_type": "password", "username": "u", "password": "p"}
        response = await profile.post("/oauth/token", data=data, headers=basic(client_id, secret))
        oauth_error(response, 400, "unsupported_grant_type")

    @pytest.mark.parametrize("content", [b"", b"grant_type=", b"grant_type", b"scope=a+b"])
    async def test_a_missing_grant_type_is_invalid_request(
        self, apps: Apps, profile: httpx.AsyncClient, content: bytes
    ) -> None:
        client_id, secret = await register(apps)
        headers = {**basic(client_id, secret), "Content-Type": FORM}
        response = await profile.post("/oauth/token", content=content, headers=headers)
        assert "grant_type" in oauth_error(response, 400, "invalid_request")


class TestClientAuthenticationFailures:
    async def test_a_wrong_secret_is_invalid_client(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        invalid_client(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret + "x")))

    async def test_a_wrong_secret_in_the_form_is_invalid_client(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, _ = await register(apps)
        data = {**GRANT, "client_id": client_id, "client_secret": "nope"}
        invalid_client(await profile.post("/oauth/token", data=data))

    @pytest.mark.parametrize("client_id", ["0" * 32, "not a client id", "x" * 300, "nul\x00byte"])
    async def test_an_unknown_client_is_invalid_client(
        self, apps: Apps, profile: httpx.AsyncClient, client_id: str
    ) -> None:
        data = {**GRANT, "client_id": client_id, "client_secret": "whatever"}
        invalid_client(await profile.post("/oauth/token", data=data))

    async def test_a_revoked_client_is_invalid_client(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        async with apps.profile.state.sessionmaker() as session:
            await api_clients.revoke_client(session, client_id)
            await session.commit()
        invalid_client(await profile.post("/oauth/token", data=GRANT, headers=basic(client_id, secret)))

    async def test_the_three_failures_say_the_same(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        revoked_id, revoked_secret = await register(apps)
        async with apps.profile.state.sessionmaker() as session:
            await api_clients.revoke_client(session, revoked_id)
            await session.commit()
        attempts = [(client_id, "wrong"), ("0" * 32, secret), (revoked_id, revoked_secret)]
        bodies = [
            (await profile.post("/oauth/token", data=GRANT, headers=basic(*attempt))).json() for attempt in attempts
        ]
        assert bodies[0] == bodies[1] == bodies[2]

    async def test_no_credentials_at_all_is_invalid_client(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        invalid_client(await profile.post("/oauth/token", data=GRANT))

    async def test_a_bearer_header_is_not_client_authentication(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        invalid_client(await profile.post("/oauth/token", data=GRANT, headers={"Authorization": "Bearer x"}))

    async def test_both_methods_at_once_is_invalid_request(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        data = {**GRANT, "client_id": client_id, "client_secret": secret}
        response = await profile.post("/oauth/token", data=data, headers=basic(client_id, secret))
        assert "not both" in oauth_error(response, 400, "invalid_request")


class TestMalformedRequests:
    async def test_a_json_body_is_invalid_request(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        response = await profile.post("/oauth/token", json=GRANT, headers=basic(client_id, secret))
        assert FORM in oauth_error(response, 400, "invalid_request")

    async def test_no_content_type_is_invalid_request(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        response = await profile.post("/oauth/token", content=b"grant_type=client_credentials")
        oauth_error(response, 400, "invalid_request")
        response = await profile.post(
            "/oauth/token", content=b"grant_type=client_credentials", headers=basic(client_id, secret)
        )
        oauth_error(response, 400, "invalid_request")

    async def test_a_form_content_type_with_a_charset_is_accepted(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        headers = {**basic(client_id, secret), "Content-Type": f"{FORM}; charset=UTF-8"}
        token_of(await profile.post("/oauth/token", content=b"grant_type=client_credentials", headers=headers))

    async def test_a_repeated_parameter_is_invalid_request(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        client_id, secret = await register(apps)
        content = f"grant_type=client_credentials&scope={quote(ROSTER_READ)}&scope=x".encode()
        headers = {**basic(client_id, secret), "Content-Type": FORM}
        response = await profile.post("/oauth/token", content=content, headers=headers)
        assert "scope" in oauth_error(response, 400, "invalid_request")

    @pytest.mark.parametrize("content", [b"grant_type=client_credentials&x=%ff", b"\xff\xfe", b"a=1&" * 20])
    async def test_a_body_that_is_not_a_utf8_form_is_invalid_request(
        self, apps: Apps, profile: httpx.AsyncClient, content: bytes
    ) -> None:
        client_id, secret = await register(apps)
        headers = {**basic(client_id, secret), "Content-Type": FORM}
        oauth_error(await profile.post("/oauth/token", content=content, headers=headers), 400, "invalid_request")

    async def test_an_oversized_body_is_invalid_request(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        headers = {"Content-Type": FORM}
        content = b"grant_type=client_credentials&pad=" + b"x" * 20_000
        oauth_error(await profile.post("/oauth/token", content=content, headers=headers), 400, "invalid_request")


class TestOpenApi:
    async def test_the_form_parameters_are_documented(self, apps: Apps, profile: httpx.AsyncClient) -> None:
        operation = (await profile.get("/openapi.json")).json()["paths"]["/oauth/token"]["post"]
        schema = operation["requestBody"]["content"][FORM]["schema"]
        assert schema["required"] == ["grant_type"]
        assert set(schema["properties"]) == {"grant_type", "scope", "client_id", "client_secret"}
        assert operation["tags"] == ["oauth"]
        assert {"200", "400", "401"} <= set(operation["responses"])


class TestCreateClient:
    async def test_only_a_hash_of_the_secret_is_stored(self, apps: Apps) -> None:
        client_id, secret = await register(apps, tenant="riverbend", name="Roster Hub")
        async with apps.profile.state.sessionmaker() as session:
            client = await session.get(ApiClient, client_id)
        assert client is not None
        assert client.secret_hash == api_clients.hash_secret(secret)
        assert client.secret_hash.startswith("sha256$")
        assert secret not in client.secret_hash
        assert (client.tenant_id, client.name, client.scopes) == ("riverbend", "Roster Hub", [ROSTER_READ])
        assert len(client_id) >= 22
        assert len(secret) >= 43

    async def test_each_client_gets_its_own_id_and_secret(self, apps: Apps) -> None:
        first, second = await register(apps), await register(apps)
        assert first[0] != second[0]
        assert first[1] != second[1]

    async def test_the_tenant_is_created_once(self, apps: Apps) -> None:
        await register(apps, tenant="riverbend")
        await register(apps, tenant="riverbend")
        async with apps.profile.state.sessionmaker() as session:
            tenants = list(await session.exec(select(Tenant)))
        assert [tenant.id for tenant in tenants] == ["riverbend"]

    @pytest.mark.parametrize(
        ("scopes", "message"),
        [
            ((ROSTER_READ, "roster.readonly"), "Unknown scope roster.readonly"),
            ((), "at least one scope"),
        ],
    )
    async def test_bad_scopes_are_refused(self, apps: Apps, scopes: tuple[str, ...], message: str) -> None:
        with pytest.raises(BadRequestError, match=message) as raised:
            await register(apps, scopes=scopes)
        assert raised.value.extra == {"field": "scopes"}

    @pytest.mark.parametrize("tenant", ["", "Riverbend", "-riverbend", "river bend", "x" * 64, "rïverbend"])
    async def test_a_bad_tenant_id_is_refused(self, apps: Apps, tenant: str) -> None:
        with pytest.raises(BadRequestError, match="Invalid tenant") as raised:
            await register(apps, tenant=tenant)
        assert raised.value.extra == {"field": "tenant"}

    async def test_a_too_long_name_is_refused(self, apps: Apps) -> None:
        with pytest.raises(BadRequestError, match="name"):
            await register(apps, name="n" * 256)


class TestEnsureTenant:
    async def test_it_returns_the_existing_tenant(self, apps: Apps) -> None:
        async with apps.profile.state.sessionmaker() as session:
            first = await api_clients.ensure_tenant(session, "riverbend")
            await session.commit()
        async with apps.profile.state.sessionmaker() as session:
            again = await api_clients.ensure_tenant(session, "riverbend")
        assert again.created_at == first.created_at


class TestRevokeClient:
    async def test_revoking_twice_keeps_the_first_time(self, apps: Apps) -> None:
        client_id, _ = await register(apps)
        async with apps.profile.state.sessionmaker() as session:
            first = (await api_clients.revoke_client(session, client_id)).revoked_at
            await session.commit()
        async with apps.profile.state.sessionmaker() as session:
            again = (await api_clients.revoke_client(session, client_id)).revoked_at
        assert first is not None
        assert again == first
        assert first <= datetime.now(UTC)


class TestGrantScopes:
    def test_no_request_grants_every_held_scope(self) -> None:
        assert api_clients.grant_scopes([ROSTER_READ, ROSTER_CORE_READ], None) == sorted(
            [ROSTER_READ, ROSTER_CORE_READ]
        )

    def test_a_request_is_narrowed_to_held_scopes(self) -> None:
        assert api_clients.grant_scopes([ROSTER_READ, ROSTER_CORE_READ], f"{ROSTER_READ}  other") == [ROSTER_READ]

    def test_nothing_held_among_the_requested_is_invalid_scope(self) -> None:
        with pytest.raises(api_clients.InvalidScopeError):
            api_clients.grant_scopes([ROSTER_READ], ROSTER_WRITE)

    def test_a_client_holding_nothing_gets_no_token(self) -> None:
        with pytest.raises(api_clients.InvalidScopeError):
            api_clients.grant_scopes([], None)
