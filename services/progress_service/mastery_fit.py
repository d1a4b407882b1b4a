"""`plp mastery fit`: fit the mastery model on a tenant's stored evidence and keep the parameters.

Reads every response (learner, competency, correct) in arrival order from `mastery_change`,
fits per-competency BKT parameters by EM and the learner-level weights (`bkt_fit.fit_model`),
and stores them in `competency_model` with each fit's log-likelihood, response count and date.
The weights and the default parameters (for competencies without enough data) share the row `*`.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import anyio.to_thread
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_rows, table_of
from services.progress_service import bkt_fit
from services.progress_service.mastery_model import WEIGHTS_KEY
from services.progress_service.models import CompetencyModel, MasteryChange

MIN_RESPONSES = 20
"""Competencies with fewer responses keep the default parameters."""


@dataclass(frozen=True, slots=True)
class FitSummary:
    """What a fit did."""

    responses: int
    competencies: int
    log_likelihood: float


async def fit_tenant(session: AsyncSession, tenant_id: str) -> FitSummary:
    """Fit the tenant's model on its evidence and store the parameters (replacing earlier fits)."""
    rows = await session.exec(
        select(MasteryChange.learner_id, MasteryChange.competency_id, MasteryChange.correct)
        .where(col(MasteryChange.tenant_id) == tenant_id)
        .order_by(col(MasteryChange.seq))
    )
    responses: list[bkt_fit.Row] = [(learner, competency, correct) for learner, competency, correct in rows]
    if not responses:
        return FitSummary(0, 0, 0.0)
    model = await anyio.to_thread.run_sync(bkt_fit.fit_model, responses)
    now = datetime.now(UTC)
    fitted = [
        {
            "tenant_id": tenant_id,
            "competency_id": competency,
            "params": asdict(fit.params),
            "log_likelihood": fit.log_likelihood,
            "responses": fit.responses,
            "fitted_at": now,
        }
        for competency, fit in model.fits.items()
        if fit.responses >= MIN_RESPONSES
    ]
    total = sum(fit.log_likelihood for fit in model.fits.values())
    fitted.append(
        {
            "tenant_id": tenant_id,
            "competency_id": WEIGHTS_KEY,
            "params": {"weights": asdict(model.weights), "default": asdict(model.default)},
            "log_likelihood": total,
            "responses": len(responses),
            "fitted_at": now,
        }
    )
    connection = await session.connection()
    await connection.execute(sa.delete(CompetencyModel).where(col(CompetencyModel.tenant_id) == tenant_id))
    await insert_rows(session, table_of(CompetencyModel), fitted)
    return FitSummary(len(responses), len(fitted) - 1, total)
