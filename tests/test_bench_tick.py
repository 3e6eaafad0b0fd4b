"""Smoke tests for bench/tick.py and bench.ingest's several processes, at a tiny size.

Not timings: they check that what the printed figures claim is what ran (the planning
tick did nothing, the due tick claimed and posted every cohort's round through
discord.py's HTTP layer, the processes' shares are whole, disjoint servers and every
message was stored once). On either backend.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench import ingest, tick
from bench.startup import NOW, build_database, ingest_layout

COHORTS = 10


@pytest.fixture
async def world(request, backend, tmp_path: Path) -> str:
    """Where the tiny world is: a SQLite path, or a PostgreSQL URL."""
    if backend == "postgresql":
        server = request.getfixturevalue("pg_server")
        where = server.url(await server.create_database(empty=True))
        counts = await build_database(Path("unused"), ingest_layout(COHORTS, 3), 2, url=where)
    else:
        where = str(tmp_path / "tick.db")
        counts = await build_database(Path(where), ingest_layout(COHORTS, 3), 2)
    assert counts["open_threads"] == COHORTS
    return where


async def test_the_planning_tick_does_nothing_and_the_due_tick_posts_every_round(world):
    idle = await tick.measure(world, COHORTS, 3, NOW, count=True, again=True)
    assert idle["claimed"] == idle["posted"] == idle["other_work"] == idle["requests"] == 0
    assert idle["statements"] > 0 and idle["tick_again"] > 0

    assert await tick.close_open_rounds(world) == COHORTS
    due = await tick.measure(world, COHORTS, 3, tick.ALL_DUE, count=True)
    assert due["claimed"] == due["posted"] == COHORTS
    assert due["missed"] == due["failed"] == due["other_work"] == 0
    # Each round: its prompt, then its thread, through discord.py's request code.
    assert due["routes"] == {
        "POST /channels/{id}/messages": COHORTS,
        "POST /channels/{id}/messages/{id}/threads": COHORTS,
    }
    assert due["statements"] > idle["statements"]


def test_each_process_holds_whole_servers_and_no_two_share_one():
    for threads in (50, 100, 110):
        shares = [ingest.share_of(k, 2, threads) for k in range(2)]
        assert [c for share in shares for c in share] == list(range(threads))
        assert all(share.start % ingest.PER_GUILD == 0 for share in shares)
        assert {ingest.guild_of(c) for c in shares[0]}.isdisjoint(
            ingest.guild_of(c) for c in shares[1]
        )


@pytest.mark.postgresql_only
def test_two_ingest_processes_store_every_message_once(pg_server):
    url = pg_server.url(asyncio.run(pg_server.create_database(empty=True)))
    result = ingest.run_processes(url, 2, total=200, threads=100, kind="plain")
    assert result["rows"] == result["distinct_ids"] == 200
    processes = result["processes"]
    assert [p["messages"] for p in processes] == [100, 100]
    assert all(p["stored"] == p["messages"] for p in processes)
    assert all(p["ack_before_commit"] == 0 and p["acknowledged"] > 0 for p in processes)
    assert result["aggregate_per_s"] > 0
