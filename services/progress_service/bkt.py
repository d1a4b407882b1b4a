"""The mastery model: Bayesian Knowledge Tracing with forgetting, plus two learner-level terms.

Owns the online update (one call per observed response, O(1), pure: no I/O, no clock) and
the prediction of the next response. Per learner and competency the state is `p_known`, the
probability that the learner knew the competency at their latest response (the prior before
any), and `evidence_count`. Per learner (across competencies) it is `recent`, a running mean
of their latest answers, and `residual_sum` / `responses`, how much better than the
competency models they have answered so far.

P(correct) of the next response combines three terms on the log-odds scale, with weights
fitted once on past data (`bkt_fit.fit_model`):

- competency: the log-odds of P(correct) from the competency's BKT state (knows it and does
  not slip, or does not know it and guesses);
- recent: how the learner did on their latest answers in any competency (their current form);
- ability: the learner's average surprise (correct minus BKT's P(correct)) so far, shrunk
  toward 0, i.e. how much stronger or weaker they are than the average learner.

`BKT_ONLY` (the default weights) gives plain BKT: P(correct) from the competency term alone.
The estimate teachers see is `p_known`, which only the competency's own evidence moves: it is
the posterior at the latest response, not P(known) at the next one, because with forgetting
the latter never exceeds learn / (learn + forget) and mastery could become unreachable.
Forgetting is per opportunity (the chance to lose the competency between two responses on
it); the model reads no timestamps, so `last_evidence_at` stays the caller's bookkeeping.
A response about several competencies is one `observe` per competency, the learner state
passed from one to the next, as the fit treats such rows.
"""

import math
from dataclasses import dataclass, replace
from typing import Literal

MASTERED_THRESHOLD = 0.95
# Probabilities are kept this far from 0 and 1 before taking log-odds (a guess or slip of 0).
_EDGE = 1e-6

Status = Literal["not_started", "in_progress", "mastered"]


@dataclass(frozen=True, slots=True)
class BktParams:
    """The BKT parameters of one competency (forget 0 is the classic four-parameter model)."""

    prior: float = 0.2  # P(known) before any response
    learn: float = 0.15  # P(unknown -> known) between two responses on the competency
    guess: float = 0.2  # P(correct | unknown)
    slip: float = 0.1  # P(incorrect | known)
    forget: float = 0.0  # P(known -> unknown) between two responses on the competency


@dataclass(frozen=True, slots=True)
class CompetencyState:
    """One learner's state on one competency."""

    p_known: float  # P(known at the latest response | all responses); the prior before any
    evidence_count: int = 0


@dataclass(frozen=True, slots=True)
class LearnerState:
    """One learner's state across competencies (the learner-level terms)."""

    recent: float = 0.5  # running mean of the latest answers (1 correct, 0 incorrect)
    residual_sum: float = 0.0  # sum over answers of (correct - BKT's P(correct))
    responses: int = 0  # answers counted in residual_sum


@dataclass(frozen=True, slots=True)
class LearnerWeights:
    """How the terms combine into P(correct); shared by all competencies, fitted on past data."""

    intercept: float = 0.0
    competency: float = 1.0  # weight of the log-odds of BKT's P(correct)
    recent: float = 0.0  # weight of (recent - 0.5)
    ability: float = 0.0  # weight of the shrunk mean residual
    recent_rate: float = 0.3  # share of the newest answer in `recent` (1 = the latest answer only)
    ability_pseudo_count: float = 20.0  # answers' worth of shrinkage of the ability toward 0


BKT_ONLY = LearnerWeights()


def new_competency_state(params: BktParams) -> CompetencyState:
    """The state of a competency without evidence: P(known) is the prior."""
    return CompetencyState(p_known=params.prior, evidence_count=0)


def posterior(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known) after Bayes on one response, from P(known) just before it."""
    if correct:
        evidence_known = p_known * (1 - params.slip)
        evidence_unknown = (1 - p_known) * params.guess
    else:
        evidence_known = p_known * params.slip
        evidence_unknown = (1 - p_known) * (1 - params.guess)
    return evidence_known / (evidence_known + evidence_unknown)


def transition(p_known: float, params: BktParams) -> float:
    """P(known) at the next response on the competency: learn if unknown, forget if known."""
    return p_known * (1 - params.forget) + (1 - p_known) * params.learn


def update(p_known: float, correct: bool, params: BktParams) -> float:
    """Classic one-step BKT: P(known) at the next opportunity after observing one response."""
    return transition(posterior(p_known, correct, params), params)


def known_before_next(state: CompetencyState, params: BktParams) -> float:
    """P(known) at the learner's next response on the competency."""
    return state.p_known if state.evidence_count == 0 else transition(state.p_known, params)


def bkt_correct(state: CompetencyState, params: BktParams) -> float:
    """P(next response correct) from the competency's BKT state alone."""
    known = known_before_next(state, params)
    return known * (1 - params.slip) + (1 - known) * params.guess


def logit(p: float) -> float:
    """Log-odds of a probability, kept finite at 0 and 1."""
    p = min(max(p, _EDGE), 1 - _EDGE)
    return math.log(p / (1 - p))


def ability(learner: LearnerState, weights: LearnerWeights) -> float:
    """The learner's mean surprise so far, shrunk toward 0 by the pseudo-count."""
    return learner.residual_sum / (learner.responses + weights.ability_pseudo_count)


def terms(
    state: CompetencyState, learner: LearnerState, params: BktParams, weights: LearnerWeights = BKT_ONLY
) -> dict[str, float]:
    """Each term's contribution to the log-odds of the next response being correct."""
    return {
        "intercept": weights.intercept,
        "competency": weights.competency * logit(bkt_correct(state, params)),
        "recent": weights.recent * (learner.recent - 0.5),
        "ability": weights.ability * ability(learner, weights),
    }


def predict_correct(
    state: CompetencyState, learner: LearnerState, params: BktParams, weights: LearnerWeights = BKT_ONLY
) -> float:
    """P(next response on this competency correct), all terms combined."""
    z = sum(terms(state, learner, params, weights).values())
    return 1 / (1 + math.exp(-z))


def observe(
    state: CompetencyState,
    learner: LearnerState,
    correct: bool,
    params: BktParams,
    weights: LearnerWeights = BKT_ONLY,
) -> tuple[CompetencyState, LearnerState]:
    """The online update after one response: the competency's and the learner's new states."""
    expected = bkt_correct(state, params)
    known = posterior(known_before_next(state, params), correct, params)
    answer = 1.0 if correct else 0.0
    new_learner = replace(
        learner,
        recent=learner.recent + weights.recent_rate * (answer - learner.recent),
        residual_sum=learner.residual_sum + answer - expected,
        responses=learner.responses + 1,
    )
    return CompetencyState(p_known=known, evidence_count=state.evidence_count + 1), new_learner


def status_of(estimate: float, evidence_count: int) -> Status:
    """`not_started`, `in_progress` or `mastered` (P(known) at or above the threshold)."""
    if evidence_count == 0:
        return "not_started"
    return "mastered" if estimate >= MASTERED_THRESHOLD else "in_progress"
