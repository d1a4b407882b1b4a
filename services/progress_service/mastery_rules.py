"""Rule-based mastery, as teachers know it from LMS gradebooks: the alternative to BKT per framework.

Owns the rules and their incremental state. Every rule reads one small `RuleState` per learner
and competency, updated once per score in [0, 1] (O(1), no history kept):

- `latest`: the most recent score;
- `highest`: the highest score;
- `average`: the mean of all scores;
- `decaying_average`: the traditional decaying average, each new score weighted `weight`
  (0.65 by default) and the previous decaying average `1 - weight` (Canvas' current "Decaying
  Average"; Schoology's is the same with a 0.75 default);
- `weighted_average`: the newest score weighted `weight`, the plain mean of all earlier ones
  `1 - weight` (what Canvas called "Decaying Average" until it renamed it "Weighted Average");
- `n_times`: mastered once `n` scores reached the threshold; the estimate is the mean of those
  scores (lower ones left out, as in Canvas' "n Number of Times"), or of all scores before that.

Mastered means the estimate is at or above `threshold` (for `n_times`: `n` scores were). Two
fields depend on the settings (`decayed` on `weight`, `qualifying*` on `threshold`); the rest
serve any rule, so a framework can switch between the other rules without replaying history.
Pure: no I/O.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from services.progress_service.bkt import Status

Method = Literal["latest", "highest", "average", "decaying_average", "weighted_average", "n_times"]
METHODS: tuple[Method, ...] = ("latest", "highest", "average", "decaying_average", "weighted_average", "n_times")


@dataclass(frozen=True, slots=True)
class MasteryRule:
    """A framework's rule setting."""

    method: Method = "decaying_average"
    threshold: float = 0.8  # score at or above which a competency counts as mastered
    weight: float = 0.65  # share of the newest score in the decaying and weighted averages
    n: int = 3  # scores at or above the threshold needed by `n_times`

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Unknown mastery rule {self.method!r}; expected one of {', '.join(METHODS)}.")
        if not 0 < self.weight <= 1 or not 0 <= self.threshold <= 1 or self.n < 1:
            raise ValueError("A mastery rule needs 0 < weight <= 1, 0 <= threshold <= 1 and n >= 1.")


@dataclass(frozen=True, slots=True)
class RuleState:
    """Everything the rules need about one learner's scores on one competency."""

    count: int = 0
    latest: float = 0.0
    highest: float = 0.0
    total: float = 0.0  # sum of all scores
    decayed: float = 0.0  # the decaying average so far
    qualifying: int = 0  # scores at or above the threshold
    qualifying_total: float = 0.0  # their sum


def observe_score(state: RuleState, score: float, rule: MasteryRule) -> RuleState:
    """The state after one more score (clamped to [0, 1])."""
    score = min(max(score, 0.0), 1.0)
    first = state.count == 0
    reached = score >= rule.threshold
    return RuleState(
        count=state.count + 1,
        latest=score,
        highest=score if first else max(state.highest, score),
        total=state.total + score,
        decayed=score if first else rule.weight * score + (1 - rule.weight) * state.decayed,
        qualifying=state.qualifying + int(reached),
        qualifying_total=state.qualifying_total + (score if reached else 0.0),
    )


def estimate(state: RuleState, rule: MasteryRule) -> float:
    """The rule's estimate in [0, 1] (0 before any score)."""
    if state.count == 0:
        return 0.0
    match rule.method:
        case "latest":
            return state.latest
        case "highest":
            return state.highest
        case "average":
            return state.total / state.count
        case "decaying_average":
            return state.decayed
        case "weighted_average":
            if state.count == 1:
                return state.latest
            earlier = (state.total - state.latest) / (state.count - 1)
            return rule.weight * state.latest + (1 - rule.weight) * earlier
        case "n_times":
            if state.qualifying >= rule.n:
                return state.qualifying_total / state.qualifying
            return state.total / state.count


def status(state: RuleState, rule: MasteryRule) -> Status:
    """`not_started`, `in_progress` or `mastered` under the rule."""
    if state.count == 0:
        return "not_started"
    if rule.method == "n_times":
        return "mastered" if state.qualifying >= rule.n else "in_progress"
    # Sums of scores carry rounding error; a score equal to the threshold must still count.
    return "mastered" if estimate(state, rule) >= rule.threshold - 1e-12 else "in_progress"


def replay(scores: Iterable[float], rule: MasteryRule) -> tuple[float, Status]:
    """The estimate and status after a whole sequence of scores, oldest first."""
    state = RuleState()
    for score in scores:
        state = observe_score(state, score, rule)
    return estimate(state, rule), status(state, rule)
