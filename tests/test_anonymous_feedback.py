"""Anonymous peer feedback: with the cohort option on, "Give feedback" is posted as
"Peer N" (one number per giver per round), still counts for the giver, and facilitators'
reports name the giver while members' own exports show only the label. Thread replies
are never anonymous."""

from __future__ import annotations

import csv
import io
import json

import pytest_asyncio

from bot.slack.reflect import FEEDBACK_SHORTCUT
from tests.slack_helpers import assert_no_errors_logged, running_praxis
from tests.slack_helpers import open_round as slack_open_round
from tests.test_portfolio import portfolio_of
from tests.test_reflections import open_round, words

FEEDBACK = {"feedback_0": "Your calm with the silence stayed with me all week, thank you."}


async def give(world, thread, giver, reflection):
    shown = await giver.context_menu(thread, "Give feedback", reflection)
    done = await giver.submit_modal(shown, FEEDBACK)
    posted = [m for m in thread.history() if m.author.bot and m.embeds][-1]
    return shown, done, posted


async def anonymous_round(world):
    thread = await open_round(world, min_words=10, feedback_min_words=5)
    edited = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", anonymous_feedback=True
    )
    assert edited.ephemeral and "Updated" in edited.response.content
    shown = await world.admin.slash(world.channel, "cohort show", name="Autumn")
    assert "as “Peer N” (anonymous)" in str(shown.response.embeds[0].to_dict())
    return thread


async def test_form_feedback_is_posted_under_a_stable_peer_label(world):
    thread = await anonymous_round(world)
    ada, ben, cleo = world.members[:3]
    to_ada = await ada.send(thread, words(20))
    to_cleo = await cleo.send(thread, words(20))

    shown, done, first = await give(world, thread, ben, to_ada)
    assert "thread replies aren't" in shown.modal["title"], "the form says what isn't anonymous"
    assert "Peer 1" in done.response.content and "never anonymous" in done.response.content
    card = first.embeds[0]
    assert card.author.name == "Peer 1" and card.author.icon_url is None
    assert ben.member.display_name not in str(card.to_dict())
    assert f"<@{ben.id}>" not in (first.content or "") and ben.id not in first.raw_mentions

    *_, second = await give(world, thread, ben, to_cleo)
    assert second.embeds[0].author.name == "Peer 1", "the same giver keeps their number"
    *_, by_cleo = await give(world, thread, cleo, to_ada)
    assert by_cleo.embeds[0].author.name == "Peer 2"

    rows = await world.db.fetch_all(
        "SELECT author_id, anonymous FROM posts WHERE kind = 'feedback' ORDER BY message_id"
    )
    assert [(r["author_id"], r["anonymous"]) for r in rows] == [(ben.id, 1)] * 2 + [(cleo.id, 1)]

    report = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    assert ben.member.display_name in str(report.response.embeds[0].to_dict())
    export = await world.admin.slash(world.channel, "report export", cohort="Autumn", kind="posts")
    raw = await export.response.attachments[0].read()
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    given = [r for r in table if r["kind"] == "feedback" and r["member_id"] == f"#{ben.id}"]
    assert len(given) == 2 and all(r["counted"] == "yes" for r in given), given
    assert given[0]["member_name"] == ben.member.display_name, "facilitators see the giver"

    mine = await ada.slash(world.channel, "me export")
    data = json.loads(await mine.response.attachments[0].read())
    assert [r["from"] for r in data["feedback_received"]] == ["Peer 1", "Peer 2"]
    assert ben.member.display_name not in json.dumps(data)
    page = await portfolio_of(world, ada)
    assert "Peer 1" in page and "Peer 2" in page and ben.member.display_name not in page
    asked = [m.content for m in ada.user.dm_channel.history() if "responded" in m.content]
    assert asked and all(ben.member.display_name not in text for text in asked)
    assert any(text.startswith("Peer 1 responded") for text in asked), asked


async def test_a_thread_reply_is_never_anonymous(world):
    thread = await anonymous_round(world)
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(20))
    reply = await ben.send(thread, words(8, "thanks"), reply_to=reflection)
    mine = await ada.slash(world.channel, "me export")
    data = json.loads(await mine.response.attachments[0].read())
    assert [r["from"] for r in data["feedback_received"]] == [ben.member.display_name]
    assert reply.author.id == ben.id


async def test_off_by_default_feedback_carries_the_givers_name(world):
    thread = await open_round(world, min_words=10, feedback_min_words=5)
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(20))
    shown, done, posted = await give(world, thread, ben, reflection)
    assert shown.modal["title"] == "Give feedback"
    assert posted.embeds[0].author.name == ben.member.display_name
    assert "Peer" not in done.response.content
    mine = await ada.slash(world.channel, "me export")
    data = json.loads(await mine.response.attachments[0].read())
    assert [r["from"] for r in data["feedback_received"]] == [ben.member.display_name]


async def test_forget_keeps_the_label_but_unlinks_the_giver(world):
    thread = await anonymous_round(world)
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(20))
    await give(world, thread, ben, reflection)
    asked = await ben.slash(world.channel, "me forget")
    await ben.click(asked.response, label="Delete my data")
    [label] = await world.db.fetch_all("SELECT author_id, number FROM feedback_labels")
    assert label["author_id"] < 0 and label["number"] == 1
    mine = await ada.slash(world.channel, "me export")
    data = json.loads(await mine.response.attachments[0].read())
    assert [r["from"] for r in data["feedback_received"]] == ["Peer 1"]


# ------------------------------------------------------------------------------- Slack


@pytest_asyncio.fixture
async def slack(tmp_path, caplog):
    async with running_praxis(tmp_path) as world:
        yield world
    assert_no_errors_logged(caplog)


async def slack_turn_on(world):
    opened = await world.admin.command("/praxis", "edit Autumn", channel=world.room)
    done = await world.admin.submit(opened.view, {"anonymous_feedback": ["on"]})
    assert not done.errors


async def slack_give(world, prompt, giver, reflection):
    opened = await giver.shortcut(reflection, FEEDBACK_SHORTCUT)
    assert opened.view is not None, opened.text
    done = await giver.submit(opened.view, FEEDBACK)
    assert not done.errors
    post = [m for m in world.ws.messages(world.room, thread_ts=prompt.ts) if m.bot_id][-1]
    return opened.view, post


async def test_slack_form_feedback_is_posted_as_a_peer(slack):
    prompt = await slack_open_round(slack)
    await slack_turn_on(slack)
    ada, ben, cleo = slack.members[:3]
    reflection = await ada.reply(prompt, "I sat with a client who was quiet for a long time.")
    form, post = await slack_give(slack, prompt, ben, reflection)
    shown = json.dumps(form.body["blocks"])
    assert "never anonymous" in shown
    assert post.username == "Peer 1" and post.icon_url is None
    body = json.dumps(post.blocks) + post.text
    assert ben.id not in body and ben.user.real_name not in body
    assert "Peer 1" in ben.private_messages()[-1].text
    _, again = await slack_give(slack, prompt, ben, reflection)
    assert again.username == "Peer 1"
    _, other = await slack_give(slack, prompt, cleo, reflection)
    assert other.username == "Peer 2"

    reply = await ben.reply(prompt, f"<@{ada.id}> thanks, that was brave to share with us.")
    assert reply.user == ben.id, "a thread reply is the member's own message"
    async with slack.db.reading() as tx:
        rows = await tx.fetch_all(
            "SELECT anonymous FROM posts WHERE kind = 'feedback' ORDER BY posted_at, message_id"
        )
    assert [r["anonymous"] for r in rows] == [1, 1, 1, 0], "only form feedback is anonymous"
