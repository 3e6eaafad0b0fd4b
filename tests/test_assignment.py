"""Peer assignment properties (hypothesis): fair, never self-review, deterministic."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.assignment import assign_late, assign_peers, pair

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
