"""`plp mastery fit`: fitting a tenant's mastery model on its stored evidence, and later evidence estimated with it.

The command runs against a throwaway progress database named in `PLP_PROGRESS_DATABASE_URL`;
`mastery_fit.fit_tenant` is also driven directly on the session's progress app, so a statement
recorded after the fit shows the fitted parameters at work.
"""

import asyncio
import json
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typer.testing import CliRunner, Result

from kit.db import create_engine
from plp.cli import app
from services.progress_service import bkt, mastery_fit
from services.progress_service.models import CompetencyModel, MasteryChange
from tests.conftest import Apps
from tests.factories import make_roster
from tests.statements import WRITE, lms, record, statement
from tests.tokens import TokenFactory

runner = CliRunner()
TENANT = "riverbend"
SIMULATED = bkt.BktParams(prior=0.45, learn=0.25, guess=0.3, slip=0.1)
DEFAULT = bkt.BktParams()


def simulated_rows(tenant: str, competency: str, learners: int, steps: int, seed: int) -> list[dict[str, Any]]:
    """`mastery_change` rows of answers drawn from the BKT process of `SIMULATED`, learner by learner, in time order."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for learner in range(learners):
        known = rng.random() < SIMULATED.prior
        for step in range(steps):
            correct = rng.random() < (1 - SIMULATED.slip if known else SIMULATED.guess)
            known = known or rng.random() < SIMULATED.learn
            rows.append(
                {
                    "tenant_id": tenant,
                    "learner_id": f"sim-{learner}",
                    "competency_id": competency,
                    "statement_id": str(uuid.uuid4()),
                    "correct": correct,
                    "expected": 0.5,
                    "old_estimate": 0.0,
                    "estimate": 0.0,
                    "status": "in_progress",
                    "at": start + timedelta(minutes=step),
                }
            )
    return rows


def evidence(tenant: str = TENANT) -> list[dict[str, Any]]:
    """Enough answers on `c1` to fit it (240), and too few on `c2` (9) to keep a fit of its own."""
    return simulated_rows(tenant, "c1", 40, 6, seed=1) + simulated_rows(tenant, "c2", 3, 3, seed=2)


async def insert_evidence(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    """Write `mastery_change` rows as the LRS would have."""
    async with engine.begin() as conn:
        await conn.execute(sa.insert(MasteryChange), rows)


async def fitted_rows(engine: AsyncEngine, tenant: str = TENANT) -> dict[str, CompetencyModel]:
    """The tenant's `competency_model` rows by competency id."""
    async with AsyncSession(engine) as session:
        rows = await session.exec(select(CompetencyModel).where(col(CompetencyModel.tenant_id) == tenant))
        return {row.competency_id: row for row in rows}


def on_database(url: str, work: Any) -> Any:
    """Run `work(engine)` on a fresh engine of `url`, from synchronous code."""

    async def run() -> Any:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def fit(tenant: str = TENANT) -> Result:
    """Run `plp mastery fit --tenant`."""
    return runner.invoke(app, ["mastery", "fit", "--tenant", tenant])


def summary(result: Result) -> dict[str, Any]:
    """The JSON summary on the last line."""
    last: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return last


class TestMasteryFitCommand:
    def test_fits_the_tenants_evidence_and_keeps_the_parameters(self, fresh_progress: str) -> None:
        on_database(fresh_progress, lambda engine: insert_evidence(engine, evidence() + evidence("other")))

        result = fit()

        assert result.exit_code == 0, result.output
        last = summary(result)
        assert set(last) == {"responses", "competencies", "log_likelihood"}
        assert (last["responses"], last["competencies"]) == (249, 1)
        assert last["log_likelihood"] < 0
        assert "fitted 1 competencies on 249 responses" in result.stdout
        rows = on_database(fresh_progress, fitted_rows)
        assert set(rows) == {"c1", "*"}  # c2 has too few answers for its own parameters
        assert (rows["c1"].responses, rows["*"].responses) == (240, 249)
        assert rows["*"].log_likelihood == pytest.approx(last["log_likelihood"])
        assert set(rows["*"].params) == {"weights", "default"}
        assert set(rows["c1"].params) == {"prior", "learn", "guess", "slip", "forget"}
        assert rows["c1"].params["prior"] != pytest.approx(DEFAULT.prior, abs=0.05)
        assert on_database(fresh_progress, lambda engine: fitted_rows(engine, "other")) == {}

    def test_fitting_again_replaces_the_earlier_fit(self, fresh_progress: str) -> None:
        on_database(fresh_progress, lambda engine: insert_evidence(engine, evidence()))
        assert fit().exit_code == 0
        on_database(fresh_progress, lambda engine: insert_evidence(engine, simulated_rows(TENANT, "c3", 30, 4, 4)))

        again = fit()

        assert again.exit_code == 0, again.output
        assert (summary(again)["responses"], summary(again)["competencies"]) == (369, 2)
        rows = on_database(fresh_progress, fitted_rows)
        assert set(rows) == {"c1", "c3", "*"}
        assert rows["*"].responses == 369

    def test_a_fit_whose_weight_search_overshoots_succeeds_without_numeric_warnings(self, fresh_progress: str) -> None:
        # On this (seeded) evidence one grid point of the learner-weight fit takes Newton steps that
        # blow the weights up (|w . x| ~ 4e6, `exp` overflows); the next grid points start from there.
        rows = evidence() + simulated_rows(TENANT, "c3", 30, 4, 3)
        on_database(fresh_progress, lambda engine: insert_evidence(engine, rows))

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = fit()

        assert result.exit_code == 0, repr(result.exception)
        assert summary(result)["responses"] == 369

    def test_a_tenant_without_evidence_fits_nothing(self, fresh_progress: str) -> None:
        on_database(fresh_progress, lambda engine: insert_evidence(engine, evidence("other")))

        result = fit()

        assert result.exit_code == 0, result.output
        assert summary(result) == {"responses": 0, "competencies": 0, "log_likelihood": 0.0}
        assert on_database(fresh_progress, fitted_rows) == {}

    def test_an_unmigrated_database_is_refused_with_what_to_do(self, empty_progress: str) -> None:
        result = fit()

        assert result.exit_code == 1
        assert "run `plp migrate` first" in result.stderr

    def test_the_tenant_is_required(self, fresh_progress: str) -> None:
        result = runner.invoke(app, ["mastery", "fit"])

        assert result.exit_code == 2
        assert "--tenant" in result.output


class TestFitTenant:
    async def test_later_statements_are_estimated_with_the_fitted_parameters(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        engine: AsyncEngine = apps.progress.state.engine
        await insert_evidence(engine, evidence("t1"))
        async with apps.progress.state.sessionmaker() as session:
            done = await mastery_fit.fit_tenant(session, "t1")
            await session.commit()
        assert (done.responses, done.competencies) == (249, 1)
        rows = await fitted_rows(engine, "t1")
        fitted = bkt.BktParams(**rows["c1"].params)
        default = bkt.BktParams(**rows["*"].params["default"])

        await record(progress, lms(tokens, scopes=WRITE), [statement("l-a1", "c1"), statement("l-a1", "c9")])

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-a", "teacher"))
        assert response.status_code == 200, response.text
        estimates = {row["competencyId"]: row["estimate"] for row in response.json()}
        assert estimates["c1"] == pytest.approx(bkt.posterior(fitted.prior, True, fitted))
        assert estimates["c9"] == pytest.approx(bkt.posterior(default.prior, True, default))
        assert estimates["c1"] != pytest.approx(bkt.posterior(DEFAULT.prior, True, DEFAULT), abs=0.01)

    async def test_another_tenant_keeps_the_default_parameters(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t2")
        await insert_evidence(apps.progress.state.engine, evidence("t1"))
        async with apps.progress.state.sessionmaker() as session:
            await mastery_fit.fit_tenant(session, "t1")
            await session.commit()

        await record(progress, lms(tokens, tenant="t2", scopes=WRITE), statement("l-a1", "c1"))

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-a", "teacher", tenant="t2"))
        assert response.status_code == 200, response.text
        (row,) = response.json()
        assert row["estimate"] == pytest.approx(bkt.posterior(DEFAULT.prior, True, DEFAULT))
