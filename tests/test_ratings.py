"""Helpfulness ratings: the writer of a reflection rates each feedback on it, privately,
once and changeably; facilitators see counts; /me forget keeps counts, unlinked."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.discord.ratings import rate_view
from tests.helpers import create_cohort, refuse_writes, refused, tick_at
from tests.slack_helpers import assert_no_errors_logged, open_round, running_praxis

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FEEDBACK = "Your point about pacing stayed with me all week, thank you."


def words(n: int, word: str = "honesty") -> str:
    return " ".join([word] * n)


def questions(member) -> list:
    """Rating questions in the member's DMs, oldest first."""
    channel = member.user.dm_channel
    if channel is None:
        return []
    return [m for m in channel.history() if "responded to your reflection" in m.content]


async def ratings_rows(world) -> list[dict]:
    return [dict(r) for r in await world.db.fetch_all("SELECT * FROM ratings")]


async def participation(world) -> dict[str, dict]:
    result = await world.admin.slash(
        world.channel, "report export", cohort="Autumn", kind="participation"
    )
    raw = await result.response.attachments[0].read()
    return {row["member_id"]: row for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}


async def test_the_writer_rates_feedback_privately_and_can_change_it(world):
    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben, cleo = world.members[:3]
    reflection = await ada.send(thread, words(20))
    by_ben = await ben.send(thread, FEEDBACK, reply_to=reflection)
    await ben.send(thread, "And one more thought on the same theme.", reply_to=reflection)
    shown = await cleo.context_menu(thread, "Give feedback", reflection)
    await cleo.submit_modal(shown, {"feedback_0": "You named the pull to rescue so clearly."})

    [question, second, by_form] = questions(ada)
    assert ben.member.display_name in question.content
    assert cleo.member.display_name in by_form.content, "form feedback is asked about too"
    assert questions(ben) == [] and questions(cleo) == [], "only the writer is asked"
    rows = await ratings_rows(world)
    assert len(rows) == 3 and all(r["helpful"] is None for r in rows), "asked, not rated"

    answered = await ada.user.click(question, label="Helpful")
    assert answered.ephemeral and "rated" in answered.response.content
    await ada.user.click(second, label="Not yet")
    row = await world.db.fetch_one(
        "SELECT * FROM ratings WHERE feedback_message_id = ?", (by_ben.id,)
    )
    assert row["helpful"] == 1 and row["rater_id"] == ada.id and row["giver_id"] == ben.id
    table = await participation(world)
    assert table[f"#{ben.id}"]["feedback_rated"] == "2"
    assert table[f"#{ben.id}"]["feedback_rated_helpful"] == "1"

    await ada.user.click(second, label="Helpful")  # she changed her mind
    table = await participation(world)
    assert table[f"#{ben.id}"]["feedback_rated_helpful"] == "2"
    assert table[f"#{ada.id}"]["feedback_rated"] == "0"
    assert len(questions(ada)) == 3, "pressing a button asks nothing new"

    report = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    feedback = next(f for f in report.response.embeds[0].fields if f.name == "Feedback")
    assert "2 of 2 rated helpful" in feedback.value
    progress = await ben.slash(world.channel, "me progress")
    assert "Your feedback this round: 2 of 2 rated helpful" in (
        progress.response.embeds[0].description
    )
    progress = await cleo.slash(world.channel, "me progress")
    assert "rated helpful" not in progress.response.embeds[0].description, "Cleo's isn't rated"


async def test_someone_else_cannot_rate_and_nothing_is_stored(world):
    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben, cleo = world.members[:3]
    reflection = await ada.send(thread, words(20))
    by_ben = await ben.send(thread, FEEDBACK, reply_to=reflection)
    # Buttons carrying Ada's feedback id, shown where Ben and Cleo can press them.
    channel = world.bot.get_channel(world.channel.id)
    crafted = await channel.send("Rate this?", view=rate_view(by_ben.id))
    before = await ratings_rows(world)

    for person in (ben, cleo):
        result = await person.click(crafted, label="Helpful")
        refused(world.env, result, "Only the person whose reflection")
    assert await ratings_rows(world) == before, "a refusal stores nothing"


async def test_closed_dms_mean_no_question_and_the_feedback_still_counts(world):
    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben = world.members[:2]
    world.env.inject_error(
        "POST", f"/channels/{ada.user.dm_channel.id}/messages", status=403, code=50007, times=None
    )
    reflection = await ada.send(thread, words(20))
    by_ben = await ben.send(thread, FEEDBACK, reply_to=reflection)
    assert questions(ada) == []
    stored = await world.db.fetch_one("SELECT kind FROM posts WHERE message_id = ?", (by_ben.id,))
    assert stored["kind"] == "feedback"
    [row] = await ratings_rows(world)
    assert row["helpful"] is None, "asked once (and not again), never rated"


async def test_forget_keeps_the_counts_and_export_holds_ratings(world):
    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(20))
    by_ben = await ben.send(thread, FEEDBACK, reply_to=reflection)
    [question] = questions(ada)
    await ada.user.click(question, label="Helpful")

    for person, key in ((ada, "ratings_given"), (ben, "ratings_received")):
        result = await person.slash(world.channel, "me export")
        data = json.loads(await result.response.attachments[0].read())
        assert [(r["feedback_message_id"], r["helpful"]) for r in data[key]] == [
            (str(by_ben.id), True)
        ]

    asked = await ada.slash(world.channel, "me forget")
    await ada.click(asked.response, label="Delete my data")
    [row] = await ratings_rows(world)
    assert row["rater_id"] < 0 and row["giver_id"] == ben.id and row["helpful"] == 1
    table = await participation(world)
    assert table[f"#{ben.id}"]["feedback_rated_helpful"] == "1", "the count stays"

    asked = await ben.slash(world.channel, "me forget")
    await ben.click(asked.response, label="Delete my data")
    [row] = await ratings_rows(world)
    assert row["giver_id"] < 0 and row["feedback_message_id"] != by_ben.id, "nothing links back"
    assert (
        await world.db.fetch_value(
            "SELECT COUNT(*) FROM posts WHERE message_id = ?", (row["feedback_message_id"],)
        )
        == 1
    )


# ---------------------------------------------------------------------------- Slack


@pytest_asyncio.fixture
async def slack_world(tmp_path, caplog):
    async with running_praxis(tmp_path) as world:
        yield world
    assert_no_errors_logged(caplog)


def slack_questions(person) -> list:
    return [m for m in person.dms() if "responded to your reflection" in (m.text or "")]


async def slack_participation(world) -> dict[str, dict]:
    await world.fran.command("/praxis", "report export Autumn participation")
    im = world.ws.im_with(world.fran.id)
    [upload] = [f for f in world.slack.files.values() if im.id in f.shared_to][-1:]
    rows = csv.DictReader(io.StringIO(upload.content.decode("utf-8-sig")))
    return {row["member_name"]: row for row in rows}


async def test_slack_the_writer_rates_by_dm_and_others_cannot(slack_world):
    world = slack_world
    prompt = await open_round(world, min_words="5")
    ada, ben, cleo = world.members[:3]
    await ada.reply(prompt, "I sat with a client who was quiet for a long time.")
    await ben.reply(prompt, f"<@{ada.id}> thank you, the silence part stayed with me.")

    [question] = slack_questions(ada)
    assert ben.user.name in question.text
    assert slack_questions(ben) == [] and slack_questions(cleo) == []
    refused_click = await cleo.click(question, "praxis_rate_helpful")  # someone else's button
    assert "Only the person whose reflection" in refused_click.text
    assert await world.db.fetch_value("SELECT COUNT(helpful) FROM ratings") == 0

    done = await ada.click(question, "praxis_rate_not_yet")
    assert "not helpful yet" in done.text
    table = await slack_participation(world)
    assert (
        table[ben.user.name]["feedback_rated"],
        table[ben.user.name]["feedback_rated_helpful"],
    ) == (
        "1",
        "0",
    )
    await ada.click(question, "praxis_rate_helpful")  # changed her mind
    table = await slack_participation(world)
    assert table[ben.user.name]["feedback_rated_helpful"] == "1"
    assert len(slack_questions(ada)) == 1, "asked once"
    report = await world.fran.command("/praxis", "report round Autumn")
    assert "1 of 1 rated helpful by their readers" in report.text
    progress = await ben.command("/praxis", "me progress", channel=world.room)
    assert "Your feedback this round: 1 of 1 rated helpful" in progress.text


async def test_a_batch_of_feedback_is_claimed_together_each_once(world):
    """A thread's feedback stored in one batch is claimed in one transaction; each piece
    is asked about once, whatever the batch repeats, and a reflection never."""
    from bot.core import ratings

    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben, cleo = world.members[:3]
    reflection = await ada.send(thread, words(20))
    by_ben = await ben.send(thread, FEEDBACK, reply_to=reflection)
    by_cleo = await cleo.send(thread, "What you said about silence helped me.", reply_to=reflection)
    async with world.db.transaction() as tx:  # as if they hadn't been asked yet
        await tx.execute("DELETE FROM ratings")

    now = datetime(2026, 1, 6, tzinfo=UTC)
    batch = [by_ben.id, reflection.id, by_cleo.id, by_ben.id]
    asks = await ratings.claim_asks(world.db, batch, now)
    assert [(a.feedback_message_id, a.rater_id) for a in asks] == [
        (by_ben.id, ada.id), (by_cleo.id, ada.id),
    ]  # fmt: skip
    assert await ratings.claim_asks(world.db, batch, now) == []
    assert len(await ratings_rows(world)) == 2


# ------------------------------------------------------------------ the paced queue


async def _feedback_on_one_reflection(world, pieces: int) -> tuple[object, list[int]]:
    """Ada's reflection and ``pieces`` of feedback on it from Ben and Cleo, in order, with
    no question claimed yet (as if Praxis stopped right after storing them)."""
    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben, cleo = world.members[:3]
    reflection = await ada.send(thread, words(20))
    ids = []
    for n in range(pieces):
        giver = (ben, cleo)[n % 2]
        ids.append((await giver.send(thread, f"{FEEDBACK} ({n})", reply_to=reflection)).id)
    async with world.db.transaction() as tx:
        await tx.execute("DELETE FROM ratings")
    return ada, ids


class FakeClock:
    """A clock for :class:`~bot.pacing.Pace` that moves only when the pace sleeps."""

    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += seconds


async def test_queued_questions_go_out_at_their_pace_each_claimed_just_before_it_is_sent(world):
    """A burst goes at once, the rest at the rate; each question is claimed at most a
    batch ahead of its sending, so a crash loses at most that batch, never the queue."""
    from bot.core import ratings
    from bot.pacing import Pace

    ada, ids = await _feedback_on_one_reflection(world, 25)
    clock = FakeClock()
    sent: list[tuple[int, float, int]] = []

    async def send(question):
        claimed = await world.db.fetch_value("SELECT COUNT(*) FROM ratings")
        sent.append((question.feedback_message_id, clock(), claimed))

    pace = Pace(2.0, 5, clock=clock, sleep=clock.sleep)
    queue = ratings.Questions(lambda: world.db, send, lambda: FIRST_SLOT, pace, claim_at_once=10)
    queue.put(ids[:20])
    queue.put(ids[20:] + ids[:3])  # asked about again: claimed once, so sent once
    await queue.drain()

    assert [s[0] for s in sent] == ids, "every piece, once, in the order stored"
    assert queue.sent == 25 and queue.waiting == 0
    assert [s[1] for s in sent[:5]] == [0.0] * 5, "the burst goes at once"
    assert sent[-1][1] == 10.0, "then two a second: 20 more take ten seconds"
    assert all(claimed <= n + 10 for n, (_, _, claimed) in enumerate(sent, start=1)), (
        "never more than one batch claimed ahead of what was sent"
    )
    assert {r["rater_id"] for r in await ratings_rows(world)} == {ada.id}


async def test_what_a_stop_left_queued_is_unclaimed_and_found_again(world):
    from bot.core import ratings
    from bot.core.errors import StorageBusy
    from bot.pacing import Pace

    _, ids = await _feedback_on_one_reflection(world, 4)
    [round_id] = [r["id"] for r in await world.db.fetch_all("SELECT id FROM rounds")]
    assert await ratings.unasked(world.db, [round_id]) == ids
    many = [*range(round_id + 1, round_id + 1200), round_id]  # a thousand open rounds and more
    assert await ratings.unasked(world.db, many) == ids, "asked in parts, none lost"

    class Refusing:  # a database whose writes are refused (a lock held elsewhere)
        def transaction(self):
            raise StorageBusy("locked")

    sent = []

    async def send(question):
        sent.append(question)

    clock = FakeClock()
    pace = Pace(5.0, 20, clock=clock, sleep=clock.sleep)
    queue = ratings.Questions(lambda: Refusing(), send, lambda: FIRST_SLOT, pace)
    queue.put(ids[:2])
    await queue.drain()
    assert sent == [] and await ratings.unasked(world.db, [round_id]) == ids, (
        "a refused claim asks nothing and loses nothing"
    )

    queue = ratings.Questions(lambda: world.db, send, lambda: FIRST_SLOT, pace)
    queue.put(ids)
    await queue.close()  # stopping before the sender's first turn
    assert sent == [] and await ratings.unasked(world.db, [round_id]) == ids


async def test_after_a_restart_the_writer_is_asked_what_a_stop_left_unasked(world, settings, bots):
    """Through the real bot: feedback stored but not yet asked about when Praxis stopped is
    asked about once after the next start (its catch-up finds it), and not again after."""
    from tests.helpers import restart

    ada, _ = await _feedback_on_one_reflection(world, 3)
    before = len(questions(ada))  # asked before the rows were removed (the test's stop)
    await restart(world.env, settings, bots)
    await world.env.settle()
    await world.bot.get_cog("Reflections").settle()
    asked = questions(ada)[before:]
    assert len(asked) == 3, "each unasked piece asked once after the start"
    assert len(await ratings_rows(world)) == 3
    await restart(world.env, settings, bots)
    await world.env.settle()
    await world.bot.get_cog("Reflections").settle()
    assert len(questions(ada)) == before + 3, "asked once, not at every start"


async def test_slack_after_a_restart_the_writer_is_asked_what_a_stop_left_unasked(slack_world):
    from tests.slack_helpers import start_praxis

    world = slack_world
    prompt = await open_round(world, min_words="5")
    ada, ben = world.members[:2]
    await ada.reply(prompt, "I sat with a client who was quiet for a long time.")
    await ben.reply(prompt, f"<@{ada.id}> thank you, the silence part stayed with me.")
    assert len(slack_questions(ada)) == 1
    async with world.db.transaction() as tx:  # as if Praxis stopped before asking
        await tx.execute("DELETE FROM ratings")

    await world.bot.close()
    await start_praxis(world, world.path)  # reads the open round's thread back
    await world.slack.settle()
    assert len(slack_questions(ada)) == 2, "asked after the start, once"
    await world.bot.close()
    await start_praxis(world, world.path)
    await world.slack.settle()
    assert len(slack_questions(ada)) == 2, "not again at the next start"


async def test_questions_a_refused_claim_held_back_are_asked_after_the_next_healthy_tick(world):
    """A claim the database refuses keeps every queued question, in order; the first tick
    after the outage goes on asking them, without waiting for a restart."""
    ada, ids = await _feedback_on_one_reflection(world, 3)
    before = len(questions(ada))  # asked before the rows were removed
    queue = world.bot.get_cog("Reflections").questions
    await refuse_writes(world.db)
    queue.put(ids)
    await queue.drain()
    assert queue.waiting == 3 and len(questions(ada)) == before, "kept, none asked"
    await tick_at(world, FIRST_SLOT + timedelta(minutes=1))  # the outage is noticed
    assert queue.waiting == 3

    await refuse_writes(world.db, False)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))
    await queue.drain()
    assert queue.waiting == 0 and len(questions(ada)) == before + 3, "each asked once"
    assert len(await ratings_rows(world)) == 3
