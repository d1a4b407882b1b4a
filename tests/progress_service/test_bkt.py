"""Bayesian Knowledge Tracing (`services.progress_service.bkt`): pure properties of one update and of the status."""

import itertools

import pytest

from services.progress_service.bkt import MASTERED_THRESHOLD, BktParams, status_of, update

DEFAULT = BktParams()
NO_LEARNING = BktParams(learn=0.0)
ESTIMATES = [i / 100 for i in range(1, 100)]
PARAMS = [
    DEFAULT,
    NO_LEARNING,
    BktParams(prior=0.5, learn=0.05, guess=0.3, slip=0.05),
    BktParams(prior=0.1, learn=0.3, guess=0.1, slip=0.2),
]


def after(answers: tuple[bool, ...], params: BktParams = DEFAULT) -> float:
    """The estimate after `answers`, starting from the prior."""
    estimate = params.prior
    for correct in answers:
        estimate = update(estimate, correct, params)
    return estimate


class TestUpdate:
    @pytest.mark.parametrize("params", PARAMS)
    def test_a_correct_answer_raises_the_estimate(self, params: BktParams) -> None:
        assert all(update(p, True, params) > p for p in ESTIMATES)

    @pytest.mark.parametrize("params", PARAMS)
    def test_without_learning_an_incorrect_answer_lowers_the_estimate(self, params: BktParams) -> None:
        unlearned = BktParams(prior=params.prior, learn=0.0, guess=params.guess, slip=params.slip)
        assert all(update(p, False, unlearned) < p for p in ESTIMATES)

    def test_an_incorrect_answer_lowers_the_estimate_from_the_prior_upwards(self) -> None:
        assert all(update(p, False, DEFAULT) < p for p in ESTIMATES if p >= DEFAULT.prior)

    @pytest.mark.parametrize("params", PARAMS)
    def test_an_incorrect_answer_never_beats_a_correct_one(self, params: BktParams) -> None:
        assert all(update(p, False, params) < update(p, True, params) for p in ESTIMATES)

    @pytest.mark.parametrize("params", PARAMS)
    @pytest.mark.parametrize("correct", [True, False])
    def test_the_estimate_stays_strictly_between_zero_and_one(self, params: BktParams, correct: bool) -> None:
        assert all(0 < update(p, correct, params) < 1 for p in ESTIMATES)

    @pytest.mark.parametrize("correct", [True, False])
    def test_learning_moves_an_unknown_competency_toward_known(self, correct: bool) -> None:
        assert update(0.0, correct, DEFAULT) == pytest.approx(DEFAULT.learn)

    @pytest.mark.parametrize("correct", [True, False])
    def test_without_learning_an_unknown_competency_stays_unknown(self, correct: bool) -> None:
        assert update(0.0, correct, NO_LEARNING) == 0.0

    def test_a_known_competency_stays_known_whatever_the_answer(self) -> None:
        assert update(1.0, True, DEFAULT) == pytest.approx(1.0)
        assert update(1.0, False, DEFAULT) == pytest.approx(1.0)

    def test_matches_the_textbook_formula_for_one_correct_answer(self) -> None:
        posterior = 0.2 * 0.9 / (0.2 * 0.9 + 0.8 * 0.2)
        assert update(0.2, True, DEFAULT) == pytest.approx(posterior + (1 - posterior) * 0.15)

    def test_matches_the_textbook_formula_for_one_incorrect_answer(self) -> None:
        posterior = 0.2 * 0.1 / (0.2 * 0.1 + 0.8 * 0.8)
        assert update(0.2, False, DEFAULT) == pytest.approx(posterior + (1 - posterior) * 0.15)


class TestSequences:
    def test_more_correct_answers_in_a_row_give_a_higher_estimate(self) -> None:
        estimates = [after((True,) * n) for n in range(8)]
        assert estimates == sorted(estimates)
        assert len(set(estimates)) == len(estimates)

    def test_turning_any_wrong_answer_into_a_right_one_raises_the_final_estimate(self) -> None:
        for answers in itertools.product([True, False], repeat=5):
            for i, correct in enumerate(answers):
                if not correct:
                    better = (*answers[:i], True, *answers[i + 1 :])
                    assert after(better) > after(answers), (answers, better)

    def test_three_correct_answers_from_the_prior_reach_mastery_and_two_do_not(self) -> None:
        assert status_of(after((True, True)), 2) == "in_progress"
        assert status_of(after((True, True, True)), 3) == "mastered"


class TestStatusOf:
    @pytest.mark.parametrize("estimate", [0.0, 0.5, 0.99])
    def test_no_evidence_is_not_started_whatever_the_estimate(self, estimate: float) -> None:
        assert status_of(estimate, 0) == "not_started"

    @pytest.mark.parametrize("estimate", [0.0, 0.5, MASTERED_THRESHOLD - 1e-9])
    def test_below_the_threshold_with_evidence_is_in_progress(self, estimate: float) -> None:
        assert status_of(estimate, 1) == "in_progress"

    @pytest.mark.parametrize("estimate", [MASTERED_THRESHOLD, 0.99, 1.0])
    def test_at_or_above_the_threshold_with_evidence_is_mastered(self, estimate: float) -> None:
        assert status_of(estimate, 3) == "mastered"
