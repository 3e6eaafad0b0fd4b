"""Reports for facilitators and members' own data on Slack, through the real slack-bolt.

One small round is played before each test: ada and ben reflect (ben also gives ada
feedback), cleo writes nothing, dev is excused; then the reflection deadline passes.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime

import pytest_asyncio

from bot.core import reflections
from bot.core.reflections import Author, Role
from slacksim import SlackSim
from tests.slack_helpers import (
    assert_no_errors_logged,
    build_slack_world,
    create_cohort,
    prompts,
    start_praxis,
)

ADA_TEXT = "I sat with a client who was quiet for a long time today."
BEN_TEXT = "A hard week; I learned to wait before I answer someone."
AFTER_REFLECTIONS = datetime(2026, 1, 9, 10, 0, tzinfo=UTC)  # due Thu 8 Jan 09:00


@pytest_asyncio.fixture
async def world(tmp_path, caplog):
    async with SlackSim() as slack:
        world = build_slack_world(slack)
        await start_praxis(world, tmp_path / "praxis.db")
        await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00",
                            min_words="5", feedback_min_words="3")  # fmt: skip
        world.slack.set_time(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        await world.bot.tick(world.slack.now())
        (world.prompt,) = prompts(world)
        ada, ben, _cleo, dev = world.members
        world.ada_reply = await ada.reply(world.prompt, ADA_TEXT)
        await ben.reply(world.prompt, BEN_TEXT)
        await ben.reply(world.prompt, f"<@{ada.id}> thank you, the silence part stayed with me.")
        excused = await world.fran.command("/praxis", f"excuse Autumn <@{dev.id}> 1")
        assert "excused" in excused.text
        world.slack.set_time(AFTER_REFLECTIONS)
        yield world
        for bot in world.bots:
            await bot.close()
    assert_no_errors_logged(caplog)


def names(world) -> dict[str, str]:
    ada, ben, cleo, dev = world.members
    return {"ada": ada.user.name, "ben": ben.user.name, "cleo": cleo.user.name,
            "dev": dev.user.name}  # fmt: skip


def uploads_to(world, person) -> list:
    """Files Praxis uploaded into ``person``'s DM with it."""
    im = world.ws.im_with(person.id)
    return [f for f in world.slack.files.values() if im is not None and im.id in f.shared_to]


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# --------------------------------------------------------------------- facilitators


async def test_the_round_report_counts_missing_excused_and_feedback(world):
    n = names(world)
    outcome = await world.fran.command("/praxis", "report round Autumn", channel=world.room)
    text = outcome.text
    assert "Report · Autumn · round 1" in text
    assert "2 of 3 counted · 2 on time · 0 late" in text  # dev is excused: not in the 3
    assert f"Still missing (1): {n['cleo']}" in text
    assert f"Excused (1): {n['dev']}" in text
    assert "Feedback: 1 counted responses" in text
    assert f"{n['ada']}: on time · 13 words · gave 0 · received 1" in text
    assert f"{n['ben']}: on time · 11 words · gave 1 · received 0" in text
    assert outcome.ephemerals and all(e.user == world.fran.id for e in outcome.ephemerals)
    assert all(e.blocks for e in outcome.ephemerals)  # Block Kit sections
    assert outcome.messages == []  # nothing posted anywhere

    same = await world.fran.command("/praxis", "report round Autumn 1", channel=world.room)
    assert same.text == text
    none = await world.fran.command("/praxis", "report round Autumn 2", channel=world.room)
    assert "no posted round 2" in none.text


async def test_a_long_round_report_is_split_into_sections(world):
    from bot.core.ports import Person
    from bot.core.reports import RoundSummary, Standing
    from bot.core.rounds import get_round
    from bot.slack.blocks import SECTION_LIMIT, sections
    from bot.slack.reports import round_summary_text

    round_ = await get_round(world.db, 1)
    rows = tuple((Person(i, f"Member number {i:03d}"), Standing("missing")) for i in range(150))
    text = round_summary_text(RoundSummary("Autumn", round_, rows, 0, False), heading="Report")
    parts = sections(text)
    assert len(text) > SECTION_LIMIT and len(parts) > 1
    assert "\n".join(p["text"]["text"] for p in parts).count("• Member number") == 150


async def test_the_member_report_shows_one_member_across_rounds(world):
    ada, _, cleo, dev = world.members
    outcome = await world.fran.command("/praxis", f"report member Autumn <@{ada.id}>")
    assert f"{ada.user.name} · Autumn" in outcome.text
    assert "1 on time · 0 late · 0 too short · 0 missing · 0 excused" in outcome.text
    assert "Feedback given: 0 · received: 1 · average words: 13 · current streak: 1" in (
        outcome.text
    )
    assert "R1 (" in outcome.text and "on time, 13 words" in outcome.text
    missing = await world.fran.command("/praxis", f"report member Autumn <@{cleo.id}>")
    assert "1 missing" in missing.text and "current streak: 0" in missing.text
    excused = await world.fran.command("/praxis", f"report member Autumn <@{dev.id}>")
    assert "1 excused" in excused.text
    wrong = await world.fran.command("/praxis", "report member Autumn ada")
    assert "@mention" in wrong.text


async def test_csv_exports_arrive_in_the_facilitators_dm_only(world):
    n = names(world)
    outcome = await world.fran.command("/praxis", "report export Autumn", channel=world.room)
    assert "direct messages" in outcome.text
    (figures,) = uploads_to(world, world.fran)
    assert figures.filename == "autumn-figures.csv"
    assert figures.shared_to == [world.ws.im_with(world.fran.id).id]
    rows = csv_rows(figures.content)
    assert {(r["member_name"], r["kind"], r["to_member_name"]) for r in rows} == {
        (n["ada"], "reflection", ""),
        (n["ben"], "reflection", ""),
        (n["ben"], "feedback", n["ada"]),
    }
    assert "text" not in rows[0]
    assert world.fran.dms()[-1].files[0]["name"] == "autumn-figures.csv"

    await world.fran.command("/praxis", "report export Autumn participation")
    (participation,) = [f for f in uploads_to(world, world.fran) if "participation" in f.filename]
    standing = {r["member_name"]: r["status"] for r in csv_rows(participation.content)}
    assert standing == {n["ada"]: "on_time", n["ben"]: "on_time", n["cleo"]: "missing",
                        n["dev"]: "excused"}  # fmt: skip

    await world.fran.command("/praxis", "report export Autumn posts text")
    (texts,) = [f for f in uploads_to(world, world.fran) if f.filename.endswith("texts.csv")]
    assert ADA_TEXT in {r["text"] for r in csv_rows(texts.content)}

    # Nothing went to a channel or to anyone else.
    assert all(f.shared_to == [world.ws.im_with(world.fran.id).id]
               for f in world.slack.files.values())  # fmt: skip
    wrong = await world.fran.command("/praxis", "report export Autumn everything")
    assert "Try `/praxis report" in wrong.text and len(world.slack.files) == 3


async def test_the_chart_is_drawn_off_the_event_loop_and_sent_by_dm(world, monkeypatch):
    from bot.core import chart as drawing

    threads = []
    real = drawing.render_heatmap

    def watched(grid):
        threads.append(threading.current_thread())
        return real(grid)

    monkeypatch.setattr(drawing, "render_heatmap", watched)  # a small grid: in a thread
    outcome = await world.admin.command("/praxis", "report chart Autumn", channel=world.room)
    assert "participation chart" in outcome.text
    (chart,) = uploads_to(world, world.admin)
    assert chart.filename == "autumn-participation.png"
    assert chart.content.startswith(b"\x89PNG")
    assert threads and threads[0] is not threading.main_thread()


async def test_another_cohorts_facilitator_sees_nothing(world):
    other = world.ws.add_user("olga")
    spring_room = world.ws.create_channel("spring", members=[world.admin, other])
    spring_staff = world.ws.create_usergroup("spring-staff", users=[other])
    opened = await world.admin.command("/praxis", "create", channel=spring_room)
    await world.admin.submit(
        opened.view, {"name": "Spring", "channel": spring_room.id, "facilitators": spring_staff.id}
    )
    ada = world.members[0]
    for action in ("report round Autumn", f"report member Autumn <@{ada.id}>",
                   "report export Autumn participation", "report chart Autumn"):  # fmt: skip
        refused = await other.command("/praxis", action, channel=spring_room)
        assert "Only this cohort's facilitators" in refused.text
        assert ada.user.name not in refused.text and not refused.messages
    assert world.slack.files == {}


# -------------------------------------------------------------------------- members


async def test_me_progress_shows_standing_per_round_and_streak(world):
    ada, _, cleo, _ = world.members
    mine = await ada.command("/praxis", "me progress", channel=world.room)
    assert "*Autumn*" in mine.text
    assert "Reflection counted: 13 words" in mine.text
    assert "Feedback given to 0 of 2 peers" in mine.text
    assert "Streak: 1 round(s) · rounds completed: 1 of 1" in mine.text
    assert "Your rounds: R1 on time" in mine.text
    assert "/archives/" in mine.text  # a link to the round's thread
    assert all(e.user == ada.id for e in mine.ephemerals)

    theirs = await cleo.command("/praxis", "me progress Autumn")
    assert "No reflection yet" in theirs.text and "R1 missing" in theirs.text
    assert "Streak: 0" in theirs.text
    facilitator = await world.fran.command("/praxis", "me progress")
    assert "aren't in a cohort" in facilitator.text
    unknown = await ada.command("/praxis", "me progress Winter")
    assert "no cohort called “Winter”" in unknown.text


async def test_me_export_sends_the_members_data_as_json_by_dm(world):
    ada, ben, *_ = world.members
    outcome = await ada.command("/praxis", "me export", channel=world.room)
    assert "direct message" in outcome.text
    (upload,) = uploads_to(world, ada)
    assert upload.filename == "praxis-my-data.json"
    data = json.loads(upload.content)
    assert data["user_id"] == ada.id
    assert [r["text"] for r in data["reflections"]] == [ADA_TEXT]
    assert [(r["from"], r["round"]) for r in data["feedback_received"]] == [(ben.user.name, 1)]
    assert data["feedback_given"] == [] and data["settings"] == {"nudges": 1}
    assert BEN_TEXT not in upload.content.decode()  # only ada's own data
    assert uploads_to(world, ben) == []


async def add_form_post(world, person) -> str:
    """A reflection Praxis posted for ``person`` in the thread (as a form would): the bot's
    message, stored as the member's post under the bot's message number."""
    rt = world.bot.slack
    sent = await rt.client.chat_postMessage(
        channel=world.room.id, thread_ts=world.prompt.ts, text="From the form: more thoughts."
    )
    number = await rt.ids.message(world.room.id, sent["ts"])
    ctx = await reflections.context_for_thread(
        world.db, await rt.ids.known_message(world.room.id, world.prompt.ts)
    )
    author = Author(await rt.ids.known("user", person.id), person.user.name, Role.MEMBER)
    await reflections.save_form_reflection(
        world.db, ctx, author, [(number, "From the form: more thoughts.")], (), world.slack.now()
    )
    return sent["ts"]


async def table_rows(world) -> dict[str, list[tuple]]:
    tables = ("posts", "member_settings", "member_notes", "excusals", "assignments",
              "platform_ids", "cohorts", "rounds")  # fmt: skip
    async with world.db.reading() as tx:
        return {t: [tuple(r) for r in await tx.fetch_all(f"SELECT * FROM {t}")] for t in tables}


async def test_forget_end_to_end(world, tmp_path):
    ada = world.members[0]
    rt = world.bot.slack
    form_ts = await add_form_post(world, ada)
    world.slack.set_time(datetime(2026, 1, 10, 9, 30, tzinfo=UTC))  # feedback reminders
    await world.bot.tick(world.slack.now())
    assert ada.dms(), "ada was nudged, so Praxis knows her DM channel"
    ada_dm = world.ws.im_with(ada.id).id
    ada_number = await rt.ids.known("user", ada.id)
    before = await world.fran.command("/praxis", "report round Autumn")
    async with world.db.reading() as tx:
        posts_before = await tx.fetch_value("SELECT COUNT(*) FROM posts")

    asked = await ada.command("/praxis", "me forget", channel=world.room)
    assert "This can't be undone" in asked.text
    done = await ada.click(asked.ephemerals[-1], "praxis_forget_confirm")
    assert "Done" in done.text and "stay in Slack" in done.text

    # Text gone from the database, counts kept under "Former member".
    async with world.db.reading() as tx:
        rows = [dict(r) for r in await tx.fetch_all("SELECT * FROM posts")]
        settings = await tx.fetch_all("SELECT * FROM member_settings")
    assert len(rows) == posts_before
    assert not any(r["text"] and ("client" in r["text"] or "form" in r["text"]) for r in rows)
    assert sum(r["author_name"] == "Former member" for r in rows) == 2
    after = await world.fran.command("/praxis", "report round Autumn")
    assert "2 of 3 counted" in before.text and "2 of 4 counted" in after.text
    # Her counted reflection stays, no longer hers; she is still in the channel, where
    # reports now see a member with nothing written.
    assert "Former member: on time · 18 words · gave 0 · received 1" in after.text
    assert f"{ada.user.name}: missing · 0 words" in after.text
    assert all(s["user_id"] != ada_number for s in settings)

    # Praxis's own post for her is deleted in Slack; what she typed stays there.
    assert world.room.find(form_ts) is None
    assert world.room.find(world.ada_reply.ts) is not None
    assert world.slack.calls_to("chat.delete")[-1].args["ts"] == form_ts

    # Nothing in platform_ids (or the ids cache) leads to her messages or her DM.
    keys = {f"{world.room.id}:{world.ada_reply.ts}", f"{world.room.id}:{form_ts}"}
    async with world.db.reading() as tx:
        stored = {r["external"] for r in await tx.fetch_all("SELECT external FROM platform_ids")}
    assert not keys & stored and ada_dm not in stored
    assert await rt.ids.known_message(world.room.id, world.ada_reply.ts) is None
    assert await rt.ids.known("channel", ada_dm) is None
    # Her user number is kept as her Slack id's alias, but no row carries it any more.
    user_columns = {"posts": ("author_id", "target_id"), "member_settings": ("user_id",),
                    "member_notes": ("member_id",), "excusals": ("member_id", "excused_by"),
                    "assignments": ("reviewer_id", "author_id")}  # fmt: skip
    async with world.db.reading() as tx:
        for table, columns in user_columns.items():
            for column in columns:
                found = f"SELECT COUNT(*) FROM {table} WHERE {column} = ?"
                assert await tx.fetch_value(found, (ada_number,)) == 0, (table, column)
    everything = await table_rows(world)

    # Editing her own message later, a read-back or a restart brings nothing back.
    await ada.edit(world.ada_reply, "I sat with a client who was quiet: edited afterwards.")
    await rt.threads.backfill()  # reads the thread again, in this process (its id cache)
    assert await table_rows(world) == everything
    await world.bot.close()
    await start_praxis(world, tmp_path / "praxis.db")
    assert await table_rows(world) == everything

    # She can take part again: the next round's reminder reaches her by DM, and the DM
    # channel gets a fresh number that stands for it.
    world.slack.set_time(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))  # round 2 opens
    await world.bot.tick(world.slack.now())
    reminders = len(ada.dms())
    world.slack.set_time(datetime(2026, 1, 14, 9, 30, tzinfo=UTC))  # 24 h before it's due
    await world.bot.tick(world.slack.now())
    assert len(ada.dms()) == reminders + 1
    async with world.db.reading() as tx:
        dm_number = await tx.fetch_value(
            "SELECT dm_channel_id FROM member_settings WHERE user_id = ?", (ada_number,)
        )
    assert await world.bot.slack.ids.text(dm_number) == ada_dm


async def test_forget_kept_or_forged_changes_nothing(world):
    ada, ben, *_ = world.members
    form_ts = await add_form_post(world, ada)
    before = await table_rows(world)
    asked = await ada.command("/praxis", "me forget", channel=world.room)
    kept = await ada.click(asked.ephemerals[-1], "praxis_forget_keep")
    assert "Nothing was deleted" in kept.text
    assert await table_rows(world) == before
    assert world.room.find(form_ts) is not None

    # Ben clicks a copy of ada's button: it forgets nobody (nor ben, who didn't ask).
    posted = await world.bot.slack.client.chat_postMessage(
        channel=world.room.id, text="copy", blocks=asked.ephemerals[-1].blocks
    )
    before = await table_rows(world)
    forged = await ben.click(world.room.find(posted["ts"]), "praxis_forget_confirm")
    assert "someone else" in forged.text
    assert await table_rows(world) == before
    assert world.slack.calls_to("chat.delete") == []
