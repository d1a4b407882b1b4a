"""The planner (`planner.next_steps`): pure properties over the built-in framework and small custom ones."""

import itertools
from collections.abc import Iterator

import pytest

from services.pathway_service.framework import BUILT_IN_FRAMEWORK, Competency
from services.pathway_service.planner import next_steps

BUILT_IN_IDS = [c.id for c in BUILT_IN_FRAMEWORK]
PREREQUISITES = {c.id: set(c.prerequisites) for c in BUILT_IN_FRAMEWORK}

# Two roots; `c` needs both; `d` needs `c`; `e` needs only `a`.
DIAMOND = (
    Competency("a", "A"),
    Competency("b", "B"),
    Competency("c", "C", ("a", "b")),
    Competency("d", "D", ("c",)),
    Competency("e", "E", ("a",)),
)


def every_subset(ids: list[str]) -> Iterator[frozenset[str]]:
    """All 2**len(ids) subsets of `ids`."""
    for size in range(len(ids) + 1):
        for chosen in itertools.combinations(ids, size):
            yield frozenset(chosen)


def step_ids(framework: tuple[Competency, ...], mastered: frozenset[str] | set[str], limit: int = 50) -> list[str]:
    """The ids of the next steps."""
    return [step.competency.id for step in next_steps(framework, mastered, limit)]


class TestNextSteps:
    def test_the_built_in_framework_has_the_eight_competencies_these_tests_assume(self) -> None:
        assert len(BUILT_IN_IDS) == 8
        assert len(list(every_subset(BUILT_IN_IDS))) == 256

    def test_with_nothing_mastered_only_the_root_of_the_built_in_framework_is_offered(self) -> None:
        assert step_ids(BUILT_IN_FRAMEWORK, set()) == ["3.NF.A.1"]

    def test_with_nothing_mastered_every_root_is_offered(self) -> None:
        assert step_ids(DIAMOND, set()) == ["a", "b"]

    def test_never_offers_a_competency_with_an_unmastered_prerequisite(self) -> None:
        for mastered in every_subset(BUILT_IN_IDS):
            for step in step_ids(BUILT_IN_FRAMEWORK, mastered):
                assert PREREQUISITES[step] <= mastered, (sorted(mastered), step)

    def test_never_offers_a_mastered_competency(self) -> None:
        for mastered in every_subset(BUILT_IN_IDS):
            assert not set(step_ids(BUILT_IN_FRAMEWORK, mastered)) & mastered, sorted(mastered)

    def test_offers_every_unmastered_competency_whose_prerequisites_are_all_mastered(self) -> None:
        for mastered in every_subset(BUILT_IN_IDS):
            ready = {c for c in BUILT_IN_IDS if c not in mastered and PREREQUISITES[c] <= mastered}
            assert set(step_ids(BUILT_IN_FRAMEWORK, mastered)) == ready, sorted(mastered)

    def test_follows_the_order_of_the_framework(self) -> None:
        for mastered in every_subset(BUILT_IN_IDS):
            steps = step_ids(BUILT_IN_FRAMEWORK, mastered)
            assert steps == sorted(steps, key=BUILT_IN_IDS.index), sorted(mastered)

    def test_follows_the_order_of_a_framework_listed_differently(self) -> None:
        reordered = (DIAMOND[4], DIAMOND[1], DIAMOND[0], DIAMOND[3], DIAMOND[2])
        assert step_ids(reordered, {"a"}) == ["e", "b"]

    def test_offers_a_competency_once_all_its_prerequisites_are_mastered(self) -> None:
        assert step_ids(DIAMOND, {"a"}) == ["b", "e"]
        assert step_ids(DIAMOND, {"a", "b"}) == ["c", "e"]
        assert step_ids(DIAMOND, {"a", "b", "c"}) == ["d", "e"]

    def test_everything_mastered_leaves_nothing_to_do(self) -> None:
        assert step_ids(BUILT_IN_FRAMEWORK, set(BUILT_IN_IDS)) == []

    def test_ids_outside_the_framework_are_ignored(self) -> None:
        assert step_ids(DIAMOND, {"zzz", "3.NF.A.1"}) == ["a", "b"]

    @pytest.mark.parametrize("limit", [0, 1, 2, 3])
    def test_returns_at_most_limit_steps_and_the_first_ones(self, limit: int) -> None:
        mastered = frozenset({"3.NF.A.1", "3.NF.A.2", "3.NF.A.3"})
        full = step_ids(BUILT_IN_FRAMEWORK, mastered)
        assert full == ["4.NF.A.1", "4.NF.B.3"]
        assert step_ids(BUILT_IN_FRAMEWORK, mastered, limit) == full[:limit]

    def test_the_limit_applies_to_every_subset(self) -> None:
        for mastered in every_subset(BUILT_IN_IDS):
            assert len(step_ids(BUILT_IN_FRAMEWORK, mastered, 1)) <= 1

    def test_every_step_is_ready_to_learn(self) -> None:
        steps = next_steps(DIAMOND, [], 10)
        assert [(s.competency, s.reason) for s in steps] == [
            (DIAMOND[0], "ready_to_learn"),
            (DIAMOND[1], "ready_to_learn"),
        ]

    def test_is_deterministic_whatever_the_order_or_kind_of_the_mastered_ids(self) -> None:
        mastered = ["3.NF.A.3", "3.NF.A.1", "3.NF.A.2", "4.NF.B.3"]
        answers = {
            tuple(step_ids(BUILT_IN_FRAMEWORK, set(mastered))),
            tuple(step_ids(BUILT_IN_FRAMEWORK, frozenset(reversed(mastered)))),
            tuple(s.competency.id for s in next_steps(BUILT_IN_FRAMEWORK, iter(mastered))),
            tuple(s.competency.id for s in next_steps(BUILT_IN_FRAMEWORK, mastered + mastered)),
        }
        assert answers == {("4.NF.A.1", "5.NF.B.4")}
