"""Members control their data: export it, forget it; texts expire; deleting a cohort deletes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.helpers import create_cohort, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def words(n: int, word: str = "honesty") -> str:
    return " ".join([word] * n)


async def a_round_with_posts(world):
    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben = world.members[:2]
    mine = await ada.send(thread, "My client and I " + words(20))
    theirs = await ben.send(thread, words(20, "boundaries"))
    await ada.send(thread, "Your point about pacing stayed with me all week.", reply_to=theirs)
    await ben.send(thread, "Thank you for writing so openly about this.", reply_to=mine)
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    shown = await ada.click(prompt, label="Write reflection")
    await ada.submit_modal(shown, {"section_0": "A form part " + words(15)})
    return thread


async def test_export_holds_my_data_and_nobody_elses(world):
    await a_round_with_posts(world)
    ada = world.members[0]
    await ada.slash(world.channel, "me nudges", setting="off")
    result = await ada.slash(world.channel, "me export")
    assert result.ephemeral
    [attachment] = result.response.attachments
    data = json.loads(await attachment.read())
    assert data["user_id"] == str(ada.id)
    assert data["settings"]["nudges"] == 0
    texts = [r["text"] for r in data["reflections"]]
    assert any("My client and I" in t for t in texts) and any("A form part" in t for t in texts)
    assert [f["text"] for f in data["feedback_given"]] == [
        "Your point about pacing stayed with me all week."
    ]
    assert [f["text"] for f in data["feedback_received"]] == [
        "Thank you for writing so openly about this."
    ]
    assert "boundaries" not in json.dumps(data), "another member's reflection is not mine"


async def test_forget_removes_texts_and_settings_but_keeps_anonymous_counts(world):
    thread = await a_round_with_posts(world)
    ada = world.members[0]
    await ada.slash(world.channel, "me nudges", setting="off")
    before = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    counted_before = before.response.embeds[0].fields[0].value.split(" of ")[0]

    asked = await ada.slash(world.channel, "me forget")
    assert asked.ephemeral and "can't be undone" in asked.response.content
    assert (
        await world.db.fetch_value("SELECT COUNT(*) FROM posts WHERE author_id = ?", (ada.id,)) > 0
    ), "nothing happens before confirmation"
    await ada.click(asked.response, label="Delete my data")

    db = world.db
    assert await db.fetch_value("SELECT COUNT(*) FROM posts WHERE author_id = ?", (ada.id,)) == 0
    assert await db.fetch_value("SELECT COUNT(*) FROM posts WHERE target_id = ?", (ada.id,)) == 0
    assert (
        await db.fetch_value("SELECT COUNT(*) FROM member_settings WHERE user_id = ?", (ada.id,))
        == 0
    )
    anonymous = await db.fetch_all("SELECT * FROM posts WHERE author_name = 'Former member'")
    assert anonymous and all(r["text"] is None and r["author_id"] < 0 for r in anonymous)
    bot_posts = [
        m.embeds[0].description or "" for m in thread.history() if m.author.bot and m.embeds
    ]
    assert not any("A form part" in p for p in bot_posts), "the bot's copy of her form post is gone"
    after = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    # Her past work stays in the totals as an anonymous "Former member" row; she herself,
    # still in the cohort, now has no past record.
    assert after.response.embeds[0].fields[0].value.split(" of ")[0] == counted_before
    table = after.response.embeds[0].description
    assert "Former member: ✅ on time" in table
    assert f"{ada.member.display_name}: ⏳ not yet" in table, "the round is still open"


async def test_forget_can_be_cancelled(world):
    await a_round_with_posts(world)
    ada = world.members[0]
    asked = await ada.slash(world.channel, "me forget")
    await ada.click(asked.response, label="Keep my data")
    assert (
        await world.db.fetch_value("SELECT COUNT(*) FROM posts WHERE author_id = ?", (ada.id,)) > 0
    )


async def test_retention_purges_old_texts_and_keeps_numbers(world):
    await a_round_with_posts(world)
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", retention_days=30)
    await tick_at(world, FIRST_SLOT + timedelta(days=29))
    assert await world.db.fetch_value("SELECT COUNT(*) FROM posts WHERE text IS NOT NULL") > 0
    report = await tick_at(world, FIRST_SLOT + timedelta(days=31))
    assert report.purged > 0
    rows = await world.db.fetch_all("SELECT text, word_count FROM posts")
    assert all(r["text"] is None for r in rows) and sum(r["word_count"] for r in rows) > 0


async def test_deleting_a_cohort_deletes_its_texts(world):
    await a_round_with_posts(world)
    asked = await world.admin.slash(world.channel, "cohort delete", name="Autumn")
    assert "every reflection and feedback text" in asked.response.content
    await world.admin.click(asked.response, label="Delete cohort and its records")
    for table in ("posts", "rounds", "prompts", "member_notes", "assignments"):
        assert await world.db.fetch_value(f"SELECT COUNT(*) FROM {table}") == 0, table
