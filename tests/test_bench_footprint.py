"""Smoke tests for bench/startup.py, bench/memory.py and bench/ingest.py at a tiny size.

Not timings: they check that each benchmark's core function runs and that its counts
mean what the printed figures claim (one history request per open thread, every
cohort's schedule planned, a positive cost per member).
"""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

import pytest

from bench import ingest, memory, startup

COHORTS = 10
pytestmark = pytest.mark.sqlite_only("the benchmarks build SQLite files and count its statements")
GUILDS, MEMBERS, PER_GUILD = 2, 20, 4


@pytest.fixture
async def startup_db(tmp_path: Path) -> Path:
    path = tmp_path / "startup.db"
    counts = await startup.build_database(
        path, startup.ingest_layout(COHORTS, members_per=3), past_rounds=2
    )
    assert counts["cohorts"] == COHORTS
    assert counts["rounds"] == COHORTS * 3
    assert counts["open_threads"] == COHORTS
    assert counts["posts"] > 0
    return path


async def test_startup_backfills_each_open_thread_once_and_plans_every_cohort(startup_db):
    figures = await startup.measure(startup_db, COHORTS, members_per=3)

    assert figures["open_threads"] == COHORTS
    assert figures["ready_listeners"] >= 1  # Reflections.on_ready ran through dispatch
    assert figures["history_requests"] == figures["open_threads"]
    assert figures["planned_cohorts"] == COHORTS
    assert figures["next_due"] is not None
    assert figures["tick_work"] == 0  # nothing was due: the tick only planned
    assert figures["tick_requests"] == 0
    assert figures["on_ready_queries"] >= COHORTS  # at least the last-seen lookup per thread
    assert figures["tick_queries"] > 0
    assert figures["guilds_cached"] == 1
    assert figures["members_cached"] == COHORTS * 3
    # Only the history requests and the one command sync went to the (stubbed) REST API.
    assert sum(figures["rest_calls"].values()) == COHORTS + 1
    phases = ("create_bot", "setup_hook", "guilds", "on_ready", "first_tick")
    assert all(figures[k] > 0 for k in phases)
    assert figures["total"] == pytest.approx(sum(figures[k] for k in phases))


async def test_startup_under_limits_answers_commands_and_keeps_to_the_global_limit(startup_db):
    payloads = [json.dumps(p) for p in startup.guild_payloads(COHORTS, 3)]
    figures = await startup.measure_limits(
        startup_db, COHORTS, 3, payloads, rtt=(0.001, 0.002), every=0.05
    )
    assert figures["commands"] >= 1
    assert figures["answered"] == figures["progress_shown"] == figures["commands"]
    assert figures["history_requests"] == figures["open_threads"] == COHORTS
    assert figures["held_at_first_tick"] == COHORTS and figures["tick_work"] == 0
    assert figures["busiest_second"] <= startup.GLOBAL_LIMIT and figures["refused"] == 0
    assert not figures["still_unread"]


def test_the_limited_stub_refuses_the_51st_request_in_a_second():
    rest = startup.LimitedRest((0.0, 0.0))

    class Route:
        method, path = "GET", "/channels/{channel_id}/messages"

    async def burst():
        return await asyncio.gather(
            *(rest(Route()) for _ in range(startup.GLOBAL_LIMIT + 1)), return_exceptions=True
        )

    answers = asyncio.run(burst())
    assert rest.refused == 1 and rest.busiest_second() == startup.GLOBAL_LIMIT + 1
    assert sum(isinstance(a, Exception) for a in answers) == 1


async def test_startup_measure_leaves_the_database_as_it_was(startup_db):
    first = await startup.measure(startup_db, COHORTS, members_per=3)
    again = await startup.measure(startup_db, COHORTS, members_per=3)
    assert again["history_requests"] == first["history_requests"] == COHORTS
    assert again["tick_work"] == 0


def test_startup_history_stub_answers_with_no_messages():
    rest = startup.StubRest()

    class Route:
        method, path = "GET", "/channels/{channel_id}/messages"

    assert asyncio.run(rest(Route())) == []
    assert rest.count("GET /channels") == 1


async def test_memory_reports_positive_cost_per_member(tmp_path: Path):
    path = tmp_path / "memory.db"
    specs = memory.specs(GUILDS, MEMBERS, PER_GUILD)
    await startup.build_database(path, specs, past_rounds=0)

    figures = await memory.measure(path, GUILDS, MEMBERS, PER_GUILD, messages=30)
    derived = memory.summarise(figures, GUILDS * MEMBERS)

    assert figures["members_cached"] == GUILDS * MEMBERS
    assert figures["users_cached"] >= GUILDS * MEMBERS
    assert figures["threads_cached"] == GUILDS * (PER_GUILD + 5)
    assert figures["contexts"] == GUILDS * PER_GUILD  # every open round thread resolved
    assert figures["messages_cached"] == 0  # no message cache: texts aren't kept in memory
    assert figures["rss_bot"] > figures["rss_start"] > 0
    # tracemalloc is exact where RSS at this size is not: members cost memory, and
    # caching none of them costs less.
    assert derived["per_member_traced"] > 0
    assert derived["per_member_cache"] > 100
    assert figures["traced_guilds"] > figures["traced_structure"] > 0
    assert figures["uncached_members"] == 0
    assert derived["no_cache_saves"] > 0
    assert figures["traced_contexts"] > 0
    assert figures["traced_messages"] > 0
    assert figures["top_sites"]


def test_memory_payload_gives_every_member_a_cohort_role():
    payload = memory.guild_payload(0, MEMBERS, PER_GUILD)
    cohort_roles = {str(memory.cohort_ids(0, c)[0]) for c in range(PER_GUILD)}
    assert len(payload["members"]) == MEMBERS
    assert all(set(m["roles"]) & cohort_roles for m in payload["members"])
    users = [m["user"] for m in payload["members"]]
    assert sum(u["avatar"] is not None for u in users) > MEMBERS // 2
    assert sum(u["global_name"] is not None for u in users) > MEMBERS // 2
    assert {t["id"] for t in payload["threads"]} >= {
        str(memory.cohort_ids(0, c)[2]) for c in range(PER_GUILD)
    }


@pytest.mark.parametrize("rate", [None, 3000], ids=["burst", "offered"])
async def test_ingest_notes_how_long_each_ack_and_a_read_during_the_feed_waited(rate):
    try:
        figures = await ingest.run(150, 3, rate=rate)  # one turn of 50 members in 3 threads
    finally:
        gc.unfreeze()  # the run freezes what is alive, as `praxis run` does; tests go on

    assert figures["stored"] == figures["messages"] == 150
    assert figures["acknowledged"] > 0 and figures["ack_before_commit"] == 0
    waits = figures["waits"]
    assert 0 < waits["ack_p50"] <= waits["ack_max"]
    assert waits["read_max"] > 0  # the reads asked during the feed were answered
    if rate is not None:  # offered, not a burst: the last comes 149 / rate s after the first
        assert figures["praxis_per_s"] <= 150 * rate / 149
