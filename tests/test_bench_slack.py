"""bench/slack_calls.py at a tiny size: Slack Web API calls per job stay near the minimum.

Not timings. Each job runs the real Praxis against the simulated Slack, as the bench
does, and the ratio of calls to the minimum is held to the bench's target, so a change
that adds a call per cohort, per member or per thread fails here.
"""

from __future__ import annotations

import asyncio

import pytest

from bench import slack_calls
from bench.slack_calls import TARGET

COHORTS, PER_WORKSPACE = 3, 2  # two workspaces, two Praxis processes
MEMBERS = 30  # enough that the two roster reads a cohort needs fit in the 10 %


@pytest.fixture(scope="module")
def posting_and_backfill(tmp_path_factory):
    """Jobs 1 and 3, run once for the module (each run starts two Praxis twice)."""
    return asyncio.run(
        slack_calls.posting_and_backfill(
            tmp_path_factory.mktemp("post"), COHORTS, per_workspace=PER_WORKSPACE, members=3
        )
    )


@pytest.fixture(scope="module")
def last_call(tmp_path_factory):
    return asyncio.run(slack_calls.nudging(tmp_path_factory.mktemp("nudge"), MEMBERS))


def test_the_weekly_post_posts_once_per_cohort_and_backfill_reads_each_thread_once(
    posting_and_backfill,
):
    posting, backfill = posting_and_backfill
    assert posting.calls["chat.postMessage"] == posting.minimum == COHORTS
    assert backfill.minimum == COHORTS  # every prompt opened a thread
    assert backfill.calls == {"conversations.replies": COHORTS}
    assert backfill.ratio <= TARGET
    assert "2 auth.test" in backfill.notes[0]  # one per start, shown but not counted


def test_the_weekly_post_makes_no_more_than_the_target_in_calls(posting_and_backfill):
    posting, _ = posting_and_backfill
    assert posting.ratio <= TARGET, posting.calls


def test_the_last_call_posts_once_per_member_over_the_known_dm_channel(last_call):
    assert last_call.calls["chat.postMessage"] == last_call.minimum == MEMBERS
    assert last_call.calls["conversations.open"] == 0  # the reminder stored every DM channel
    assert last_call.calls["conversations.members"] == 1
    assert last_call.calls["usergroups.users.list"] == 0  # read for the reminder, kept since


def test_the_last_call_makes_no_more_than_the_target_in_calls(last_call):
    assert last_call.ratio <= TARGET, last_call.calls
