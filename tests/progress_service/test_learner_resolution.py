"""Which learner a statement is about (account name, or mbox looked up in the roster), and predictions."""

import httpx
import sqlalchemy as sa
from sqlmodel import col, select

from services.profile_service.models import RosterUser
from services.progress_service.models import Mastery, Statement
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import invalid_fields
from tests.statements import WRITE, lms, master, record, statement
from tests.tokens import TokenFactory


async def set_email(apps: Apps, learner: str, email: str, tenant: str = "t1") -> None:
    """Give a roster learner an email address."""
    async with apps.profile.state.sessionmaker() as session:
        await session.exec(
            sa.update(RosterUser)
            .where(col(RosterUser.tenant_id) == tenant, col(RosterUser.sourced_id) == learner)
            .values(email=email)
        )
        await session.commit()


async def stored_learner(apps: Apps, statement_id: str) -> str | None:
    """The learner a stored statement was attributed to."""
    async with apps.progress.state.sessionmaker() as session:
        row: Statement = (await session.exec(select(Statement).where(col(Statement.id) == statement_id))).one()
        return row.learner_id


def by_mbox(email: str) -> dict[str, object]:
    """A correct answer on 3.NF.A.1 by the agent with this mailbox."""
    body = statement()
    body["actor"] = {"mbox": f"mailto:{email}"}
    return body


class TestMboxActors:
    async def test_an_mbox_of_a_roster_learner_is_that_learner_whatever_the_case(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await set_email(apps, "l-a1", "Ada.L@School.example")

        [statement_id] = await record(progress, lms(tokens, scopes=WRITE), [by_mbox("ada.l@school.EXAMPLE")])

        assert await stored_learner(apps, statement_id) == "l-a1"
        async with apps.progress.state.sessionmaker() as session:
            assert await session.get(Mastery, ("t1", "l-a1", "3.NF.A.1")) is not None

    async def test_an_unknown_mbox_is_stored_about_no_learner_and_moves_no_mastery(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        [statement_id] = await record(progress, lms(tokens, scopes=WRITE), [by_mbox("nobody@school.example")])

        assert await stored_learner(apps, statement_id) is None
        async with apps.progress.state.sessionmaker() as session:
            assert (await session.exec(select(Mastery))).first() is None

    async def test_another_tenants_learner_with_that_address_is_not_found(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await set_email(apps, "l-a1", "ada@school.example", tenant="t2")

        [statement_id] = await record(progress, lms(tokens, scopes=WRITE), [by_mbox("ada@school.example")])

        assert await stored_learner(apps, statement_id) is None


class TestPrediction:
    async def test_a_teacher_sees_a_high_chance_after_mastery_with_each_term(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "3.NF.A.1")

        response = await progress.get(
            "/learners/l-a1/mastery/3.NF.A.1/prediction", headers=tokens.headers("t-a", "teacher")
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pCorrect"] > 0.8
        assert set(body["terms"]) == {"intercept", "competency", "recent", "ability"}

    async def test_without_evidence_the_chance_comes_from_the_prior(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        response = await progress.get(
            "/learners/l-a1/mastery/3.NF.A.2/prediction", headers=tokens.headers("l-a1", "learner")
        )

        assert response.status_code == 200, response.text
        assert 0.2 < response.json()["pCorrect"] < 0.5  # prior 0.2: 0.2 * 0.9 + 0.8 * 0.2 = 0.34

    async def test_a_teacher_of_another_school_gets_404(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        response = await progress.get(
            "/learners/l-a1/mastery/3.NF.A.1/prediction", headers=tokens.headers("t-b", "teacher")
        )

        assert response.status_code == 404

    async def test_a_competency_id_longer_than_stored_is_422(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        response = await progress.get(
            f"/learners/l-a1/mastery/{'c' * 256}/prediction", headers=tokens.headers("t-a", "teacher")
        )

        assert response.status_code == 422
        assert invalid_fields(response) == ["competency_id"]

    async def test_another_tenants_evidence_does_not_count(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await master(progress, tokens, "l-a1", "3.NF.A.1")  # in t1; t2 has its own l-a1, taught by its own t-a

        response = await progress.get(
            "/learners/l-a1/mastery/3.NF.A.1/prediction", headers=tokens.headers("t-a", "teacher", tenant="t2")
        )

        assert response.status_code == 200, response.text
        assert response.json()["pCorrect"] < 0.5

    async def test_without_a_token_it_is_401(self, apps: Apps, progress: httpx.AsyncClient) -> None:
        response = await progress.get("/learners/l-a1/mastery/3.NF.A.1/prediction")

        assert response.status_code == 401
