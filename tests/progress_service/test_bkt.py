"""The mastery model (`services.progress_service.bkt`): pure properties of the updates, predictions and status."""

import itertools
import math

import pytest

from services.progress_service.bkt import (
    BKT_ONLY,
    MASTERED_THRESHOLD,
    BktParams,
    CompetencyState,
    LearnerState,
    LearnerWeights,
    bkt_correct,
    known_before_next,
    new_competency_state,
    observe,
    posterior,
    predict_correct,
    status_of,
    terms,
    transition,
    update,
)

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


FORGETFUL = BktParams(prior=0.2, learn=0.15, guess=0.2, slip=0.1, forget=0.05)
WEIGHTS = LearnerWeights(
    intercept=0.1, competency=0.6, recent=0.9, ability=4.0, recent_rate=0.5, ability_pseudo_count=10
)
FRESH = LearnerState()


def replayed(
    answers: tuple[bool, ...], params: BktParams = DEFAULT, weights: LearnerWeights = BKT_ONLY
) -> tuple[CompetencyState, LearnerState]:
    """The competency's and learner's states after `answers` on one competency, from scratch."""
    state, learner = new_competency_state(params), FRESH
    for correct in answers:
        state, learner = observe(state, learner, correct, params, weights)
    return state, learner


class TestForgetting:
    def test_a_known_competency_is_lost_with_the_forget_probability(self) -> None:
        assert transition(1.0, FORGETFUL) == pytest.approx(1 - FORGETFUL.forget)

    def test_forgetting_lowers_p_known_at_the_next_opportunity(self) -> None:
        assert all(update(p, True, FORGETFUL) < update(p, True, DEFAULT) for p in ESTIMATES)

    def test_without_forgetting_update_is_bayes_then_learning(self) -> None:
        assert all(update(p, False, DEFAULT) == transition(posterior(p, False, DEFAULT), DEFAULT) for p in ESTIMATES)

    def test_correct_answers_reach_mastery_even_though_forgetting_caps_the_next_opportunity(self) -> None:
        state, _ = replayed((True,) * 6, FORGETFUL)
        assert status_of(state.p_known, state.evidence_count) == "mastered"
        assert known_before_next(state, FORGETFUL) < MASTERED_THRESHOLD  # why p_known is the posterior


class TestObserve:
    def test_a_new_competency_starts_at_the_prior_without_evidence(self) -> None:
        assert new_competency_state(FORGETFUL) == CompetencyState(p_known=FORGETFUL.prior, evidence_count=0)

    @pytest.mark.parametrize("correct", [True, False])
    def test_the_first_answer_is_bayes_on_the_prior_with_no_transition_before_it(self, correct: bool) -> None:
        state, _ = replayed((correct,), FORGETFUL)
        assert state.p_known == pytest.approx(posterior(FORGETFUL.prior, correct, FORGETFUL))
        assert state.evidence_count == 1

    def test_later_answers_apply_learning_and_forgetting_first(self) -> None:
        first, learner = replayed((True,), FORGETFUL)
        second, _ = observe(first, learner, False, FORGETFUL)
        assert second.p_known == pytest.approx(posterior(transition(first.p_known, FORGETFUL), False, FORGETFUL))

    def test_without_forgetting_it_matches_the_classic_update(self) -> None:
        for answers in itertools.product([True, False], repeat=4):
            state, _ = replayed(answers)
            assert transition(state.p_known, DEFAULT) == pytest.approx(after(answers)), answers

    def test_three_correct_answers_reach_mastery_and_two_do_not(self) -> None:
        two, _ = replayed((True, True))
        three, _ = replayed((True, True, True))
        assert status_of(two.p_known, two.evidence_count) == "in_progress"
        assert status_of(three.p_known, three.evidence_count) == "mastered"

    def test_the_learner_terms_never_move_p_known(self) -> None:
        strong = LearnerState(recent=1.0, residual_sum=5.0, responses=10)
        state = CompetencyState(p_known=0.4, evidence_count=2)
        plain, _ = observe(state, FRESH, True, FORGETFUL, BKT_ONLY)
        combined, _ = observe(state, strong, True, FORGETFUL, WEIGHTS)
        assert combined.p_known == plain.p_known

    def test_the_learner_state_moves_recent_toward_the_answer_and_adds_the_surprise(self) -> None:
        state = CompetencyState(p_known=0.4, evidence_count=2)
        learner = LearnerState(recent=0.8, residual_sum=0.5, responses=4)
        _, after_wrong = observe(state, learner, False, FORGETFUL, WEIGHTS)
        assert after_wrong.recent == pytest.approx(0.8 + WEIGHTS.recent_rate * (0.0 - 0.8))
        assert after_wrong.residual_sum == pytest.approx(0.5 - bkt_correct(state, FORGETFUL))
        assert after_wrong.responses == 5

    def test_observe_returns_new_states_and_leaves_the_old_ones_alone(self) -> None:
        state, learner = new_competency_state(DEFAULT), FRESH
        observe(state, learner, True, DEFAULT, WEIGHTS)
        assert (state, learner) == (new_competency_state(DEFAULT), LearnerState())


class TestPredictCorrect:
    def test_bkt_only_weights_give_plain_bkt(self) -> None:
        for state in (new_competency_state(FORGETFUL), CompetencyState(0.7, 3), CompetencyState(0.01, 9)):
            expected = bkt_correct(state, FORGETFUL)
            assert predict_correct(state, FRESH, FORGETFUL) == pytest.approx(expected, abs=1e-12)

    def test_plain_bkt_predicts_from_p_known_at_the_next_opportunity(self) -> None:
        state = CompetencyState(p_known=0.6, evidence_count=1)
        known = 0.6 * 0.95 + 0.4 * 0.15
        assert bkt_correct(state, FORGETFUL) == pytest.approx(known * 0.9 + (1 - known) * 0.2)
        assert bkt_correct(new_competency_state(FORGETFUL), FORGETFUL) == pytest.approx(0.2 * 0.9 + 0.8 * 0.2)

    def test_the_terms_add_up_to_the_log_odds_of_the_prediction(self) -> None:
        state, learner = CompetencyState(0.55, 4), LearnerState(recent=0.9, residual_sum=-1.2, responses=7)
        p = predict_correct(state, learner, FORGETFUL, WEIGHTS)
        assert sum(terms(state, learner, FORGETFUL, WEIGHTS).values()) == pytest.approx(math.log(p / (1 - p)))
        assert terms(state, learner, FORGETFUL, WEIGHTS)["ability"] == pytest.approx(4.0 * -1.2 / (7 + 10))

    def test_better_recent_answers_and_more_ability_raise_the_prediction(self) -> None:
        state = CompetencyState(0.5, 2)
        predictions = [
            predict_correct(state, LearnerState(recent=r, residual_sum=s, responses=10), DEFAULT, WEIGHTS)
            for r, s in [(0.2, -2.0), (0.2, 2.0), (0.9, 2.0)]
        ]
        assert predictions == sorted(predictions)

    def test_a_higher_p_known_raises_the_prediction(self) -> None:
        learner = LearnerState(recent=0.3, residual_sum=1.0, responses=3)
        predictions = [predict_correct(CompetencyState(p, 1), learner, FORGETFUL, WEIGHTS) for p in ESTIMATES]
        assert predictions == sorted(predictions)

    @pytest.mark.parametrize("p_known", [0.0, 1.0])
    def test_certain_parameters_still_give_a_probability(self, p_known: float) -> None:
        certain = BktParams(prior=1.0, learn=0.0, guess=0.0, slip=0.0)
        assert 0 < predict_correct(CompetencyState(p_known, 3), FRESH, certain, WEIGHTS) < 1
