"""Bayesian Knowledge Tracing: the update of P(known) after one observed response.

Pure functions over floats; no I/O.
"""

from dataclasses import dataclass

MASTERED_THRESHOLD = 0.95


@dataclass(frozen=True, slots=True)
class BktParams:
    """The four classic BKT parameters of one competency."""

    prior: float = 0.2
    learn: float = 0.15
    guess: float = 0.2
    slip: float = 0.1


def update(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known) after observing one response: Bayes on the evidence, then the chance to learn."""
    if correct:
        evidence_known = p_known * (1 - params.slip)
        evidence_unknown = (1 - p_known) * params.guess
    else:
        evidence_known = p_known * params.slip
        evidence_unknown = (1 - p_known) * (1 - params.guess)
    posterior = evidence_known / (evidence_known + evidence_unknown)
    return posterior + (1 - posterior) * params.learn


def status_of(estimate: float, evidence_count: int) -> str:
    """`not_started`, `in_progress` or `mastered` (P(known) at or above the threshold)."""
    if evidence_count == 0:
        return "not_started"
    return "mastered" if estimate >= MASTERED_THRESHOLD else "in_progress"
