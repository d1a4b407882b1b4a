"""Gradebook mastery rules (`services.progress_service.mastery_rules`): each rule on known sequences."""

import pytest

from services.progress_service.mastery_rules import (
    METHODS,
    MasteryRule,
    Method,
    RuleState,
    estimate,
    observe_score,
    replay,
    status,
)

SCORES = [0.4, 0.9, 0.6, 0.8]


class TestEachRule:
    def test_latest_is_the_most_recent_score(self) -> None:
        assert replay(SCORES, MasteryRule("latest")) == (0.8, "mastered")
        assert replay([0.9, 0.5], MasteryRule("latest")) == (0.5, "in_progress")

    def test_highest_is_the_best_score_and_keeps_mastery(self) -> None:
        assert replay(SCORES, MasteryRule("highest")) == (0.9, "mastered")
        assert replay([0.5, 0.7], MasteryRule("highest")) == (0.7, "in_progress")

    def test_average_is_the_plain_mean(self) -> None:
        value, state = replay(SCORES, MasteryRule("average"))
        assert value == pytest.approx(0.675)
        assert state == "in_progress"

    def test_decaying_average_weights_each_new_score_against_the_previous_average(self) -> None:
        expected = 0.4
        for score in SCORES[1:]:
            expected = 0.65 * score + 0.35 * expected
        value, state = replay(SCORES, MasteryRule("decaying_average"))
        assert value == pytest.approx(expected)
        assert state == "in_progress"  # 0.7696...

    def test_decaying_average_weight_is_configurable(self) -> None:
        value, _ = replay([0.0, 1.0], MasteryRule("decaying_average", weight=0.75))
        assert value == pytest.approx(0.75)

    def test_weighted_average_weights_the_newest_score_against_the_mean_of_the_earlier_ones(self) -> None:
        value, state = replay(SCORES, MasteryRule("weighted_average"))
        assert value == pytest.approx(0.65 * 0.8 + 0.35 * (0.4 + 0.9 + 0.6) / 3)
        assert state == "in_progress"

    @pytest.mark.parametrize("method", ["average", "decaying_average", "weighted_average"])
    def test_the_averages_of_one_score_are_that_score(self, method: Method) -> None:
        assert replay([0.3], MasteryRule(method)) == (0.3, "in_progress")

    def test_n_times_is_mastered_after_n_scores_at_or_above_the_threshold(self) -> None:
        settings = MasteryRule("n_times", n=2, threshold=0.8)
        assert replay([0.9, 0.5, 0.7], settings)[1] == "in_progress"
        value, state = replay([0.9, 0.5, 0.7, 0.8], settings)
        assert state == "mastered"
        assert value == pytest.approx(0.85)  # the mean of 0.9 and 0.8; lower scores left out

    def test_n_times_before_mastery_shows_the_mean_of_all_scores(self) -> None:
        value, state = replay([0.9, 0.5], MasteryRule("n_times", n=3))
        assert value == pytest.approx(0.7)
        assert state == "in_progress"

    def test_n_times_keeps_mastery_after_a_low_score(self) -> None:
        assert replay([1.0, 1.0, 1.0, 0.0], MasteryRule("n_times", n=3))[1] == "mastered"


class TestCommon:
    @pytest.mark.parametrize("method", METHODS)
    def test_no_scores_is_not_started(self, method: Method) -> None:
        assert replay([], MasteryRule(method)) == (0.0, "not_started")
        assert status(RuleState(), MasteryRule(method)) == "not_started"

    @pytest.mark.parametrize("method", [m for m in METHODS if m != "n_times"])
    def test_a_score_exactly_at_the_threshold_masters(self, method: Method) -> None:
        assert replay([0.8, 0.8, 0.8], MasteryRule(method))[1] == "mastered"

    @pytest.mark.parametrize("method", METHODS)
    def test_scores_are_clamped_to_zero_and_one(self, method: Method) -> None:
        value, _ = replay([1.7, -0.3, 2.0], MasteryRule(method))
        assert 0.0 <= value <= 1.0

    @pytest.mark.parametrize("method", METHODS)
    def test_the_incremental_state_gives_the_same_answer_after_every_score(self, method: Method) -> None:
        settings = MasteryRule(method)
        state = RuleState()
        for i, score in enumerate(SCORES, start=1):
            state = observe_score(state, score, settings)
            assert (estimate(state, settings), status(state, settings)) == replay(SCORES[:i], settings)
        assert state.count == len(SCORES)

    def test_the_state_serves_every_rule_that_does_not_depend_on_the_settings(self) -> None:
        state = RuleState()
        for score in SCORES:
            state = observe_score(state, score, MasteryRule())
        methods: tuple[Method, ...] = ("latest", "highest", "average")
        assert [estimate(state, MasteryRule(m)) for m in methods] == [0.8, 0.9, pytest.approx(0.675)]

    @pytest.mark.parametrize(
        "settings",
        [{"method": "median"}, {"weight": 0.0}, {"weight": 1.5}, {"threshold": 1.2}, {"n": 0}],
    )
    def test_invalid_settings_are_refused(self, settings: dict[str, object]) -> None:
        with pytest.raises(ValueError, match="mastery rule"):
            MasteryRule(**settings)  # type: ignore[arg-type]  # deliberately invalid
