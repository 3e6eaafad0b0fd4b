"""Balanced feedback pairs: who responds to whose reflection this round.

People are seated round a shuffled circle and each reviews the next ``k``. That gives
every reviewer exactly ``k`` reflections and every reflection exactly ``k`` reviewers
(``n - 1`` each when there are no more than ``k`` others), and nobody reviews
themselves, whatever the seating. So the seating is free to avoid recent pairs: a
seeded shuffle, then seeded swaps of two seats kept whenever they repeat no more
recent pairs than before. The same inputs always give the same plan, which keeps
assignments stable across restarts.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence

Plan = dict[int, tuple[int, ...]]
SEARCH_BUDGET = 400_000  # pair checks spent avoiding recent pairs; bounds the cost at 200 people
#: Swaps in a row that found no fewer repeats, after which the search gives up: a small
#: cohort whose recent pairs can't all be avoided stops here, not at the budget.
STALE_SWAPS = 5_000


def pair(a: int, b: int) -> frozenset[int]:
    return frozenset((a, b))


def assign_peers(
    reflectors: Iterable[int],
    k: int,
    seed: int,
    recent_pairs: Collection[frozenset[int]] = (),
) -> Plan:
    """Map each reflector to the peers whose reflections they are asked to respond to."""
    people = sorted(set(reflectors))
    n = len(people)
    if n < 2 or k <= 0:
        return {person: () for person in people}
    reach = min(k, n - 1)
    rng = random.Random(seed)
    order = people[:]
    rng.shuffle(order)
    if recent_pairs:
        order = _avoid_recent(order, reach, rng, recent_pairs)
    return _plan(order, reach)


def _plan(order: Sequence[int], reach: int) -> Plan:
    n = len(order)
    return {order[i]: tuple(order[(i + s) % n] for s in range(1, reach + 1)) for i in range(n)}


def _avoid_recent(
    order: list[int], reach: int, rng: random.Random, recent_pairs: Collection[frozenset[int]]
) -> list[int]:
    """Swap seats while that repeats no more recent pairs; stop at zero, at the budget, or
    once :data:`STALE_SWAPS` swaps in a row have found no fewer repeats.

    A swap only changes the pairs of the two seats it moves, so only those are counted
    (:func:`_seat_edges`), not the whole plan: the same decisions as counting the whole
    plan, at a fraction of the cost. Small cohorts whose recent pairs can't all be
    avoided used to spend the whole budget (0.3 s of the event loop each); they now stop
    once the search stalls.
    """
    n = len(order)
    repeats = _repeats(_plan(order, reach), recent_pairs)
    stale = 0
    for _ in range(SEARCH_BUDGET // (n * reach)):
        if repeats == 0 or stale >= STALE_SWAPS:
            break
        i, j = rng.randrange(n), rng.randrange(n)
        edges = _seat_edges(i, j, n, reach)
        before = _edge_repeats(order, edges, recent_pairs)
        order[i], order[j] = order[j], order[i]
        change = _edge_repeats(order, edges, recent_pairs) - before
        if change <= 0:
            repeats += change
            stale = 0 if change < 0 else stale + 1
        else:
            order[i], order[j] = order[j], order[i]
            stale += 1
    return order


def _seat_edges(i: int, j: int, n: int, reach: int) -> set[tuple[int, int]]:
    """(seat, step) of every review that involves seat ``i`` or ``j``: seat reviews the
    person ``step`` seats on."""
    edges = set()
    for seat in (i, j):
        for step in range(1, reach + 1):
            edges.add((seat, step))
            edges.add(((seat - step) % n, step))
    return edges


def _edge_repeats(
    order: Sequence[int], edges: Iterable[tuple[int, int]], recent_pairs: Collection[frozenset[int]]
) -> int:
    n = len(order)
    return sum(pair(order[seat], order[(seat + step) % n]) in recent_pairs for seat, step in edges)


def assign_late(
    newcomer: int,
    plan: Plan,
    k: int,
    recent_pairs: Collection[frozenset[int]] = (),
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """For someone who reflected after the pairs were made: whom they review, who reviews them.

    They review the ``k`` least-reviewed reflections; their own goes to the ``k``
    reviewers with the lightest load. Recent pairs are avoided where there is a choice.
    """
    others = sorted(person for person in plan if person != newcomer)
    received = {person: 0 for person in others}
    for targets in plan.values():
        for target in targets:
            if target in received:
                received[target] += 1
    load = {person: len(plan.get(person, ())) for person in others}
    reach = min(k, len(others))
    reviews = _lightest(others, received, reach, newcomer, recent_pairs)
    reviewers = _lightest(others, load, reach, newcomer, recent_pairs)
    return reviews, reviewers


def _lightest(
    people: Sequence[int],
    weight: dict[int, int],
    count: int,
    newcomer: int,
    recent_pairs: Collection[frozenset[int]],
) -> tuple[int, ...]:
    ranked = sorted(people, key=lambda p: (weight[p], pair(p, newcomer) in recent_pairs, p))
    return tuple(ranked[:count])


def _repeats(plan: Plan, recent_pairs: Collection[frozenset[int]]) -> int:
    if not recent_pairs:
        return 0
    return sum(pair(r, a) in recent_pairs for r, targets in plan.items() for a in targets)
