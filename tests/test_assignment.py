"""Peer assignment properties (hypothesis): fair, never self-review, deterministic."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import assignment
from bot.core.assignment import SEARCH_BUDGET, assign_late, assign_peers, pair

people = st.lists(st.integers(1, 10**18), min_size=2, max_size=200, unique=True)


@settings(max_examples=200, deadline=None)
@given(reflectors=people, k=st.integers(1, 5), seed=st.integers(0, 2**32))
def test_fair_and_never_self(reflectors, k, seed):
    plan = assign_peers(reflectors, k, seed)
    n = len(reflectors)
    assert set(plan) == set(reflectors)
    for reviewer, targets in plan.items():
        assert reviewer not in targets
        assert len(set(targets)) == len(targets)
    given_counts = [len(t) for t in plan.values()]
    assert max(given_counts) - min(given_counts) <= 1
    assert min(given_counts) == min(k, n - 1)
    received = Counter(target for targets in plan.values() for target in targets)
    if k < n:
        counts = [received[p] for p in reflectors]
        assert max(counts) - min(counts) <= 1


@settings(max_examples=50, deadline=None)
@given(reflectors=people, k=st.integers(1, 5), seed=st.integers(0, 2**32))
def test_same_inputs_same_plan(reflectors, k, seed):
    assert assign_peers(reflectors, k, seed) == assign_peers(list(reversed(reflectors)), k, seed)


def test_recent_pairs_are_avoided_when_the_cohort_is_large_enough():
    reflectors = list(range(1, 13))
    last_weeks = assign_peers(reflectors, 2, seed=1)
    recent = {pair(r, a) for r, targets in last_weeks.items() for a in targets}
    this_week = assign_peers(reflectors, 2, seed=2, recent_pairs=recent)
    repeats = sum(pair(r, a) in recent for r, t in this_week.items() for a in t)
    assert repeats == 0


def test_tiny_groups():
    assert assign_peers([7], 2, seed=0) == {7: ()}
    assert assign_peers([], 2, seed=0) == {}
    assert assign_peers([1, 2], 3, seed=0) == {1: (2,), 2: (1,)}


def test_late_reflector_reviews_the_least_reviewed_and_is_reviewed_by_the_least_loaded():
    plan = {1: (2, 3), 2: (1, 3), 3: (1,)}  # 2 is reviewed least (once); 3 reviews least
    reviews, reviewers = assign_late(9, plan, 1)
    assert reviews == (2,) and reviewers == (3,)


def test_a_small_cohort_that_can_t_avoid_its_recent_pairs_stops_searching_early():
    """Eight people, two earlier rounds' pairs: not all can be avoided. The search gives
    up after STALE_SWAPS fruitless swaps instead of spending its whole budget (counted in
    swaps tried, not time), and still finds the fewest repeats the full search found."""
    people = list(range(1, 9))
    recent = {pair(r, a) for seed in (11, 12) for r, ts in assign_peers(people, 2, seed).items()
              for a in ts}  # fmt: skip
    tried = 0
    real_randrange = random.Random.randrange

    def counting(self, *args):
        nonlocal tried
        tried += 1
        return real_randrange(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(random.Random, "randrange", counting)
        plan = assign_peers(people, 2, 99, recent)
    swaps = tried // 2  # two seats drawn per swap
    assert swaps < SEARCH_BUDGET // (8 * 2) / 2, "it gave up well before the budget"
    repeats = sum(pair(r, a) in recent for r, ts in plan.items() for a in ts)
    assert repeats <= 13  # what the full-budget search reached on this case


def _avoid_recent_by_recounting(order, reach, rng, recent_pairs):
    """The search as first written: recount the whole plan after every swap."""
    n = len(order)
    repeats = assignment._repeats(assignment._plan(order, reach), recent_pairs)
    for _ in range(assignment.SEARCH_BUDGET // (n * reach)):
        if repeats == 0:
            break
        i, j = rng.randrange(n), rng.randrange(n)
        order[i], order[j] = order[j], order[i]
        candidate = assignment._repeats(assignment._plan(order, reach), recent_pairs)
        if candidate <= repeats:
            repeats = candidate
        else:
            order[i], order[j] = order[j], order[i]
    return order


@settings(max_examples=150, deadline=None)
@given(
    reflectors=st.lists(st.integers(1, 10**6), min_size=2, max_size=30, unique=True),
    k=st.integers(1, 4),
    seed=st.integers(0, 2**32),
    history=st.integers(0, 2**32),
)
def test_counting_only_the_moved_seats_decides_as_recounting_everything(
    reflectors, k, seed, history
):
    """With the early stop out of the way, the search that counts only the two moved
    seats' reviews makes exactly the choices of one that recounts the whole plan."""
    recent = {
        pair(r, a)
        for s in (history, history + 1)
        for r, ts in assign_peers(reflectors, k, s).items()
        for a in ts
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assignment, "SEARCH_BUDGET", 20_000)
        patch.setattr(assignment, "STALE_SWAPS", 10**9)
        fast = assign_peers(reflectors, k, seed, recent)
        patch.setattr(assignment, "_avoid_recent", _avoid_recent_by_recounting)
        slow = assign_peers(reflectors, k, seed, recent)
    assert fast == slow
