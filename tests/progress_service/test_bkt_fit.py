"""Fitting the mastery model (`services.progress_service.bkt_fit`) on data simulated from known parameters."""

from functools import cache

import numpy as np
import pytest

from services.progress_service.bkt import (
    BKT_ONLY,
    BktParams,
    CompetencyState,
    LearnerState,
    LearnerWeights,
    new_competency_state,
    observe,
    predict_correct,
)
from services.progress_service.bkt_fit import (
    BOUNDS,
    STARTS,
    FitResult,
    MasteryModel,
    Row,
    fit_bkt,
    fit_model,
    log_likelihood,
    predict_rows,
)

TRUE = {
    "no-forgetting": BktParams(prior=0.3, learn=0.15, guess=0.2, slip=0.1, forget=0.0),
    "forgetting": BktParams(prior=0.5, learn=0.08, guess=0.3, slip=0.15, forget=0.05),
    "fast": BktParams(prior=0.2, learn=0.25, guess=0.1, slip=0.05, forget=0.02),
}
FIELDS = ("prior", "learn", "guess", "slip", "forget")
# Worst error over 10 seeds of this set-up was 0.034 (a prior; most are below 0.02). The prior's
# own sampling error is sqrt(0.25 / 2000) = 0.011, so 0.05 is over four standard errors.
TOLERANCE = 0.05


def simulate(rng: np.random.Generator, params: BktParams, learners: int, steps: int) -> list[list[bool]]:
    """Response sequences drawn from the BKT process with forgetting."""
    known = rng.random(learners) < params.prior
    answers = np.empty((learners, steps), dtype=bool)
    for t in range(steps):
        answers[:, t] = rng.random(learners) < np.where(known, 1 - params.slip, params.guess)
        draw = rng.random(learners)
        known = np.where(known, draw >= params.forget, draw < params.learn)
    return answers.tolist()


@cache
def data() -> dict[str, list[list[bool]]]:
    """2,000 learners x 20 responses for each competency of TRUE (seeded)."""
    rng = np.random.default_rng(20240611)
    return {name: simulate(rng, params, 2000, 20) for name, params in TRUE.items()}


@cache
def fitted() -> dict[str, FitResult]:
    return fit_bkt(data())


class TestFitBkt:
    @pytest.mark.parametrize("competency", list(TRUE))
    @pytest.mark.parametrize("field", FIELDS)
    def test_recovers_the_parameters_that_generated_the_data(self, competency: str, field: str) -> None:
        got, want = getattr(fitted()[competency].params, field), getattr(TRUE[competency], field)
        assert got == pytest.approx(want, abs=TOLERANCE)

    @pytest.mark.parametrize("competency", list(TRUE))
    def test_the_fit_is_more_likely_than_every_start_and_than_the_truth(self, competency: str) -> None:
        fit = fitted()[competency]
        sequences = data()[competency]
        assert all(fit.log_likelihood > log_likelihood(sequences, start) for start in STARTS)
        assert fit.log_likelihood >= log_likelihood(sequences, TRUE[competency])

    @pytest.mark.parametrize("competency", list(TRUE))
    def test_reports_its_log_likelihood_responses_and_iterations(self, competency: str) -> None:
        fit = fitted()[competency]
        assert fit.log_likelihood == pytest.approx(log_likelihood(data()[competency], fit.params))
        assert fit.responses == 2000 * 20
        assert 1 <= fit.iterations <= 100

    def test_the_same_input_gives_the_same_output(self) -> None:
        small = {name: sequences[:300] for name, sequences in data().items()}
        assert fit_bkt(small) == fit_bkt(small)

    def test_without_forgetting_forget_stays_zero(self) -> None:
        small = {name: sequences[:300] for name, sequences in data().items()}
        assert all(fit.params.forget == 0.0 for fit in fit_bkt(small, forget=False).values())

    def test_parameters_stay_within_bounds_even_when_the_data_lie_outside(self) -> None:
        wild = BktParams(prior=0.999, learn=0.9, guess=0.6, slip=0.45, forget=0.5)
        fit = fit_bkt({"wild": simulate(np.random.default_rng(1), wild, 300, 10)})["wild"].params
        for field in FIELDS:
            low, high = getattr(BOUNDS, field)
            assert low <= getattr(fit, field) <= high, field

    def test_empty_sequences_and_competencies_are_left_out(self) -> None:
        fits = fit_bkt({"none": [], "empties": [[], []], "one": [[True, False, True], []]})
        assert list(fits) == ["one"]
        assert fits["one"].responses == 3
        assert fit_bkt({}) == {}


def learner_rows(seed: int, learners: int) -> list[Row]:
    """Interleaved responses of learners of varied ability on three competencies, in time order."""
    rng = np.random.default_rng(seed)
    competencies = list(TRUE)
    rows: list[Row] = []
    states: dict[tuple[int, str], bool] = {}
    ability = rng.normal(0, 1, learners)
    for step in range(30):
        for learner in range(learners):
            competency = competencies[int(rng.integers(3)) if step % 4 else step % 3]
            params = TRUE[competency]
            known = states.get((learner, competency), bool(rng.random() < params.prior))
            base = 1 - params.slip if known else params.guess
            p = 1 / (1 + np.exp(-(np.log(base / (1 - base)) + ability[learner])))
            rows.append((f"learner-{learner}", competency, bool(rng.random() < p)))
            states[(learner, competency)] = bool(
                rng.random() >= params.forget if known else rng.random() < params.learn
            )
    return rows


def with_repeats(rows: list[Row]) -> list[Row]:
    """Every other row followed by its answer again on another competency, as a two-competency item gives."""
    names = list(TRUE)
    out: list[Row] = []
    for i, (learner, competency, correct) in enumerate(rows):
        out.append((learner, competency, correct))
        if i % 2 == 0:
            out.append((learner, names[(names.index(competency) + 1) % len(names)], correct))
    return out


@cache
def model() -> MasteryModel:
    return fit_model(learner_rows(7, 400))


def online(model: MasteryModel, rows: list[Row], weights: LearnerWeights) -> list[float]:
    """P(correct) of each row through the service's online functions, learners starting fresh."""
    learners: dict[str, LearnerState] = {}
    states: dict[tuple[str, str], CompetencyState] = {}
    predictions = []
    for learner, competency, correct in rows:
        params = model.params_of(competency)
        state = states.get((learner, competency), new_competency_state(params))
        mine = learners.get(learner, LearnerState())
        predictions.append(predict_correct(state, mine, params, weights))
        states[(learner, competency)], learners[learner] = observe(state, mine, correct, params, weights)
    return predictions


def mean_log_likelihood(predictions: list[float], rows: list[Row]) -> float:
    p = np.array(predictions)
    y = np.array([correct for _, _, correct in rows])
    return float(np.mean(np.where(y, np.log(p), np.log(1 - p))))


class TestFitModel:
    def test_the_vectorized_predictions_are_those_of_the_online_functions(self) -> None:
        rows = learner_rows(8, 60)
        expected = online(model(), rows, model().weights)
        assert predict_rows(model(), rows) == pytest.approx(expected, abs=1e-9)

    def test_learners_of_varied_ability_give_positive_learner_weights(self) -> None:
        assert model().weights.ability > 0
        assert model().weights.competency > 0

    def test_the_learner_terms_predict_unseen_learners_better_than_plain_bkt(self) -> None:
        rows = learner_rows(9, 200)
        combined = mean_log_likelihood(online(model(), rows, model().weights), rows)
        plain = mean_log_likelihood(online(model(), rows, BKT_ONLY), rows)
        assert combined > plain

    def test_without_terms_the_weights_are_plain_bkt(self) -> None:
        rows = learner_rows(7, 50)
        assert fit_model(rows, terms=()).weights == BKT_ONLY

    def test_the_guard_keeps_the_recent_term_from_learning_to_copy_repeated_answers(self) -> None:
        rows = with_repeats(learner_rows(7, 300))
        assert fit_model(rows, guard_repeats=False).weights.recent_rate == 1.0  # the answer just before
        assert fit_model(rows).weights.recent_rate < 0.5

    def test_no_rows_give_plain_bkt_with_the_default_parameters(self) -> None:
        assert fit_model([]) == MasteryModel({}, BktParams(), BKT_ONLY, {})

    def test_unfitted_competencies_get_the_median_parameters(self) -> None:
        fits = list(model().params.values())
        assert model().params_of("unknown").learn == pytest.approx(float(np.median([p.learn for p in fits])))
        assert set(model().params) == set(TRUE)
