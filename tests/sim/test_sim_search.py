"""The search: every bug switch found from any of several seeds within a bound
and shrunk to a short schedule, the correct replica clean on a fixed seed set
in both modes, and a search that repeats exactly from its seed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from replica.protocol import BUGS
from sim.search import Space, check_run, search
from sim.simulation import simulate

SEEDS = (0, 1, 2)
FIRST_FAILURE_WITHIN = 400  # schedules; the medians are 20-70 (BENCHMARKS.md)


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_switch_is_found_from_every_seed_within_a_bound(bug: str) -> None:
    for seed in SEEDS:
        result = search(Space(bugs=(bug,)), examples=FIRST_FAILURE_WITHIN, seed=seed,
                        shrink_budget=0)
        assert result.found is not None, f"{bug} not found from seed {seed}"
        assert result.first_failure_example is not None
        assert result.first_failure_example <= FIRST_FAILURE_WITHIN


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_switch_is_shrunk_to_a_short_schedule_that_needs_the_bug(bug: str) -> None:
    result = search(Space(bugs=(bug,)), examples=FIRST_FAILURE_WITHIN, seed=SEEDS[0])
    assert result.found is not None, f"{bug} not found"
    assert result.found.op_count <= 12
    assert result.found.bugs == (bug,)
    report = check_run(simulate(result.found))
    assert report.verdict is False  # the shrunk schedule still fails
    # and the same schedule without the bug does not
    assert check_run(simulate(replace(result.found, bugs=()))).verdict is True


@pytest.mark.parametrize("mode", ["coordinator", "client"])
def test_the_correct_replica_is_clean_over_a_fixed_seed_set(mode: str) -> None:
    for seed in (0, 1):
        result = search(Space(mode=mode), examples=150, seed=seed)
        assert result.found is None, f"false alarm: {result.found}"
        assert result.examples == 150


def test_the_search_repeats_exactly_from_its_seed() -> None:
    first = search(Space(bugs=("local-version",)), examples=300, seed=4)
    again = search(Space(bugs=("local-version",)), examples=300, seed=4)
    assert first.found is not None
    assert first.found == again.found
    assert first.examples == again.examples
