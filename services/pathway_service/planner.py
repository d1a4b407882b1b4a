"""Choosing what a learner should work on next: pure functions, no I/O.

Today: the frontier of the framework (competencies not yet mastered whose prerequisites all
are), in curriculum order. The full planner (goals, reviews, activity choice) grows here.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.pathway_service.framework import Competency


@dataclass(frozen=True, slots=True)
class NextStep:
    """A competency to work on and why."""

    competency: Competency
    reason: str


def next_steps(framework: Sequence[Competency], mastered: Iterable[str], limit: int = 5) -> list[NextStep]:
    """Up to `limit` ready-to-learn competencies, in the framework's order."""
    done = set(mastered)
    ready = [
        competency
        for competency in framework
        if competency.id not in done and all(p in done for p in competency.prerequisites)
    ]
    return [NextStep(competency, "ready_to_learn") for competency in ready[:limit]]
