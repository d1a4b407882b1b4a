"""`kit.learner_access`: relation checks against the real profile service, cached briefly."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import kit.learner_access
from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.auth import Principal, TokenVerifier
from kit.errors import NotFoundError
from kit.http import ServiceClient, make_client
from kit.learner_access import LearnerAccess, ReadableLearnerId
from tests.conftest import Apps
from tests.factories import make_roster
from tests.kit.asgi import serve
from tests.tokens import TokenFactory

PROFILE_URL = "http://profile.test"


class CountingTransport(httpx.ASGITransport):
    """The profile app's transport, counting the requests that reach it."""

    requests: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Count, then hand the request to the app."""
        self.requests += 1
        return await super().handle_async_request(request)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        """The current reading."""
        return self.now


@dataclass
class Rig:
    """A roster in tenant `t1`, the counted transport to the profile app, and a way to build checkers."""

    transport: CountingTransport
    http: httpx.AsyncClient
    tokens: TokenFactory
    verifier: TokenVerifier

    def access(self, ttl_seconds: float = 30.0, max_entries: int = 10_000) -> LearnerAccess:
        """A fresh checker with an empty cache."""
        return LearnerAccess(ServiceClient(self.http, PROFILE_URL, "profile"), ttl_seconds, max_entries)

    async def principal(self, sub: str, *roles: str, tenant: str = "t1") -> Principal:
        """The verified principal of a fresh token."""
        return await self.verifier.verify(self.tokens.token(sub, *roles, tenant=tenant))


@pytest.fixture
async def rig(apps: Apps, tokens: TokenFactory) -> AsyncIterator[Rig]:
    """The small roster of `t1` and a counted client of the real profile app."""
    await make_roster(apps.profile, "t1")
    transport = CountingTransport(app=apps.profile)
    async with make_client(5, mounts={PROFILE_URL: transport}) as http:
        yield Rig(transport, http, tokens, apps.profile.state.token_verifier)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Replace the clock the cache reads (only inside `kit.learner_access`)."""
    fake = FakeClock()
    monkeypatch.setattr(kit.learner_access, "time", fake)
    return fake


class TestLearnerAccessRelation:
    async def test_the_teacher_of_the_class_is_a_teacher(self, rig: Rig) -> None:
        assert await rig.access().relation(await rig.principal("t-a", "teacher"), "l-a1") == "teacher"

    async def test_a_teacher_of_another_school_is_not_found(self, rig: Rig) -> None:
        with pytest.raises(NotFoundError):
            await rig.access().relation(await rig.principal("t-b", "teacher"), "l-a1")

    async def test_a_linked_guardian_is_a_guardian(self, rig: Rig) -> None:
        assert await rig.access().relation(await rig.principal("g-a1", "guardian"), "l-a1") == "guardian"

    async def test_a_guardian_of_another_learner_is_not_found(self, rig: Rig) -> None:
        with pytest.raises(NotFoundError):
            await rig.access().relation(await rig.principal("g-a1", "guardian"), "l-a2")

    async def test_a_learner_is_self(self, rig: Rig) -> None:
        assert await rig.access().relation(await rig.principal("l-a1", "learner"), "l-a1") == "self"

    async def test_an_admin_is_admin(self, rig: Rig) -> None:
        assert await rig.access().relation(await rig.principal("admin", "admin"), "l-b1") == "admin"

    async def test_the_same_ids_in_another_tenant_are_not_found(self, rig: Rig) -> None:
        with pytest.raises(NotFoundError):
            await rig.access().relation(await rig.principal("t-a", "teacher", tenant="t2"), "l-a1")

    async def test_a_repeated_question_within_the_ttl_is_answered_from_the_cache(
        self, rig: Rig, clock: FakeClock
    ) -> None:
        access, teacher = rig.access(ttl_seconds=30), await rig.principal("t-a", "teacher")
        assert await access.relation(teacher, "l-a1") == "teacher"
        clock.now += 29.9
        assert await access.relation(teacher, "l-a1") == "teacher"
        assert rig.transport.requests == 1

    async def test_an_expired_answer_is_asked_again(self, rig: Rig, clock: FakeClock) -> None:
        access, teacher = rig.access(ttl_seconds=30), await rig.principal("t-a", "teacher")
        await access.relation(teacher, "l-a1")
        clock.now += 30
        assert await access.relation(teacher, "l-a1") == "teacher"
        assert rig.transport.requests == 2
        clock.now += 1
        await access.relation(teacher, "l-a1")
        assert rig.transport.requests == 2

    async def test_forgotten_answers_are_asked_again(self, rig: Rig) -> None:
        access, teacher = rig.access(ttl_seconds=30), await rig.principal("t-a", "teacher")
        await access.relation(teacher, "l-a1")
        access.forget()
        assert await access.relation(teacher, "l-a1") == "teacher"
        assert rig.transport.requests == 2

    async def test_a_refusal_is_not_cached(self, rig: Rig, clock: FakeClock) -> None:
        access, stranger = rig.access(), await rig.principal("t-b", "teacher")
        for _ in range(2):
            with pytest.raises(NotFoundError):
                await access.relation(stranger, "l-a1")
        assert rig.transport.requests == 2

    async def test_each_learner_is_asked_about_separately(self, rig: Rig, clock: FakeClock) -> None:
        access, teacher = rig.access(), await rig.principal("t-a", "teacher")
        await access.relation(teacher, "l-a1")
        await access.relation(teacher, "l-a2")
        assert rig.transport.requests == 2

    async def test_another_tenant_does_not_reuse_a_cached_answer(self, rig: Rig, clock: FakeClock) -> None:
        access = rig.access()
        assert await access.relation(await rig.principal("t-a", "teacher"), "l-a1") == "teacher"
        with pytest.raises(NotFoundError):
            await access.relation(await rig.principal("t-a", "teacher", tenant="t2"), "l-a1")
        assert rig.transport.requests == 2

    async def test_other_roles_do_not_reuse_a_cached_answer(self, rig: Rig, clock: FakeClock) -> None:
        access = rig.access()
        assert await access.relation(await rig.principal("l-a1", "learner"), "l-a1") == "self"
        with pytest.raises(NotFoundError):
            await access.relation(await rig.principal("l-a1", "guardian"), "l-a1")
        assert rig.transport.requests == 2

    async def test_the_least_recently_used_answer_is_evicted_first(self, rig: Rig, clock: FakeClock) -> None:
        access, admin = rig.access(max_entries=2), await rig.principal("admin", "admin")
        for learner in ("l-a1", "l-a2", "l-a1", "l-b1", "l-a1"):
            await access.relation(admin, learner)
        assert rig.transport.requests == 3
        await access.relation(admin, "l-a2")
        assert rig.transport.requests == 4

    async def test_a_refreshed_answer_counts_as_recently_used(self, rig: Rig, clock: FakeClock) -> None:
        access, admin = rig.access(ttl_seconds=30, max_entries=2), await rig.principal("admin", "admin")
        await access.relation(admin, "l-a1")
        clock.now += 10
        await access.relation(admin, "l-a2")
        clock.now += 25
        await access.relation(admin, "l-a1")
        clock.now += 1
        await access.relation(admin, "l-b1")
        assert rig.transport.requests == 4
        await access.relation(admin, "l-a1")
        assert rig.transport.requests == 4


def reading_app(var_dir: Path, access: LearnerAccess) -> FastAPI:
    """A tiny service whose learner route is guarded by `ReadableLearnerId`."""
    app = create_base_app(GatewaySettings(var_dir=var_dir), title="reader", description="Reads learners.")
    app.state.learner_access = access

    @app.get("/learners/{learner_id}/notes")
    async def notes(learner_id: ReadableLearnerId) -> dict[str, str]:
        return {"learner_id": learner_id}

    return app


class TestReadableLearner:
    async def test_a_readable_learner_passes(self, rig: Rig, var_dir: Path) -> None:
        async with serve(reading_app(var_dir, rig.access())) as client:
            response = await client.get("/learners/l-a1/notes", headers=rig.tokens.headers("t-a", "teacher"))
        assert response.status_code == 200
        assert response.json() == {"learner_id": "l-a1"}

    async def test_an_unreadable_learner_is_a_404_problem(self, rig: Rig, var_dir: Path) -> None:
        async with serve(reading_app(var_dir, rig.access())) as client:
            response = await client.get("/learners/l-a1/notes", headers=rig.tokens.headers("t-b", "teacher"))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    async def test_an_anonymous_caller_is_401_without_asking_the_profile_service(self, rig: Rig, var_dir: Path) -> None:
        async with serve(reading_app(var_dir, rig.access())) as client:
            response = await client.get("/learners/l-a1/notes")
        assert response.status_code == 401
        assert rig.transport.requests == 0
