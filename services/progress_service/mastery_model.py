"""The mastery model as stored: fitted parameters and per-framework policies, loaded once per batch.

`models_for` loads what a batch of evidence needs in two queries; `apply` moves one estimate by
one response (BKT, or the framework's gradebook rule) and returns what the model expected of
that response. The learner-level terms of `bkt` (recent answers, ability) are derived from the
stored history when a prediction needs them (`learner_state`), so updates lock only the one
estimate they move. The maths lives in the pure modules `bkt` and `mastery_rules`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.progress_service import bkt, mastery_rules
from services.progress_service.mastery_store import Estimate
from services.progress_service.models import CompetencyModel, Mastery, MasteryChange, MasteryPolicy

DEFAULT_PARAMS = bkt.BktParams()
WEIGHTS_KEY = "*"
"""`competency_model` row holding the learner-level weights and the default parameters of a fit."""
RECENT_WINDOW = 50
"""Responses read back for the learner's `recent` term (older ones weigh nothing at the fitted rates)."""
_NO_LEARNER = bkt.LearnerState()


def rule_of(policy: MasteryPolicy) -> mastery_rules.MasteryRule:
    """The gradebook rule a stored policy names (`ValueError` when its options are out of range)."""
    return mastery_rules.MasteryRule(policy.method, **policy.options)  # type: ignore[arg-type]


@dataclass
class Models:
    """Everything needed to update estimates for one tenant's batch."""

    params: dict[str, bkt.BktParams]
    default: bkt.BktParams
    weights: bkt.LearnerWeights
    policies: dict[str, MasteryPolicy]

    def policy(self, framework_id: str) -> MasteryPolicy | None:
        """The framework's gradebook rule, the tenant default, or None for BKT."""
        policy = self.policies.get(framework_id) or self.policies.get("*")
        return policy if policy is not None and policy.method != "bkt" else None

    def apply(self, row: Estimate, correct: bool, score: float | None, at: datetime) -> float:
        """Move `row` by one response; returns the P(correct) its model gave the response beforehand."""
        policy = self.policy(row.framework_id)
        if policy is not None:
            rule = rule_of(policy)
            expected = row.estimate
            state = mastery_rules.observe_score(
                mastery_rules.RuleState(**row.state), score if score is not None else float(correct), rule
            )
            row.state = asdict(state)
            row.estimate, row.status = mastery_rules.estimate(state, rule), mastery_rules.status(state, rule)
        else:
            params = self.params.get(row.competency_id, self.default)
            current = bkt.CompetencyState(
                p_known=row.estimate if row.evidence_count else params.prior, evidence_count=row.evidence_count
            )
            expected = bkt.bkt_correct(current, params)
            new, _ = bkt.observe(current, _NO_LEARNER, correct, params)
            row.estimate = new.p_known
            row.status = bkt.status_of(new.p_known, new.evidence_count)
        row.evidence_count += 1
        row.last_evidence_at = at if row.last_evidence_at is None else max(row.last_evidence_at, at)
        return expected

    def replay(self, row: Estimate, history: Sequence[MasteryChange]) -> None:
        """Recompute `row` from its remaining history (after voided evidence was dropped), and the history with it."""
        row.estimate, row.evidence_count, row.status, row.state, row.last_evidence_at = 0.0, 0, "not_started", {}, None
        for change in history:
            old = row.estimate
            change.expected = self.apply(row, change.correct, change.score, change.at)
            change.old_estimate, change.estimate, change.status = old, row.estimate, row.status


async def models_for(session: AsyncSession, tenant_id: str, competencies: Iterable[str]) -> Models:
    """The fitted parameters of `competencies` and the tenant's policies."""
    wanted = sorted(set(competencies) | {WEIGHTS_KEY})
    fitted = await session.exec(
        select(CompetencyModel).where(
            col(CompetencyModel.tenant_id) == tenant_id, col(CompetencyModel.competency_id).in_(wanted)
        )
    )
    params: dict[str, bkt.BktParams] = {}
    weights, default = bkt.BKT_ONLY, DEFAULT_PARAMS
    for row in fitted:
        if row.competency_id == WEIGHTS_KEY:
            weights = bkt.LearnerWeights(**row.params["weights"])
            default = bkt.BktParams(**row.params["default"])
        else:
            params[row.competency_id] = bkt.BktParams(**row.params)
    policies = await session.exec(select(MasteryPolicy).where(col(MasteryPolicy.tenant_id) == tenant_id))
    return Models(params=params, default=default, weights=weights, policies={p.framework_id: p for p in policies})


async def learner_state(session: AsyncSession, tenant_id: str, learner_id: str, rate: float) -> bkt.LearnerState:
    """The learner-level terms of `bkt` (recent answers at `rate`, surprise so far) from the stored responses."""
    where = (col(MasteryChange.tenant_id) == tenant_id, col(MasteryChange.learner_id) == learner_id)
    correct = sa.case((col(MasteryChange.correct), 1.0), else_=0.0)
    count, residual = (
        await session.exec(
            select(sa.func.count(), sa.func.coalesce(sa.func.sum(correct - col(MasteryChange.expected)), 0.0)).where(
                *where
            )
        )
    ).one()
    latest = await session.exec(
        select(MasteryChange.correct).where(*where).order_by(col(MasteryChange.seq).desc()).limit(RECENT_WINDOW)
    )
    recent = 0.5
    for answer in reversed(list(latest)):
        recent += rate * ((1.0 if answer else 0.0) - recent)
    return bkt.LearnerState(recent=recent, residual_sum=float(residual), responses=int(count))


async def predict(
    session: AsyncSession, tenant_id: str, learner_id: str, competency_id: str
) -> tuple[float, dict[str, float]]:
    """P(the learner's next response on the competency is correct) and each term's share of its log-odds."""
    models = await models_for(session, tenant_id, [competency_id])
    params = models.params.get(competency_id, models.default)
    row = (
        await session.exec(
            select(Mastery).where(
                col(Mastery.tenant_id) == tenant_id,
                col(Mastery.learner_id) == learner_id,
                col(Mastery.competency_id) == competency_id,
            )
        )
    ).first()
    state = (
        bkt.CompetencyState(p_known=row.estimate, evidence_count=row.evidence_count)
        if row is not None and row.evidence_count
        else bkt.new_competency_state(params)
    )
    learner = await learner_state(session, tenant_id, learner_id, models.weights.recent_rate)
    return bkt.predict_correct(state, learner, params, models.weights), bkt.terms(
        state, learner, params, models.weights
    )
