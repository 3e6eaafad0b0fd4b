"""Reports against a scripted term: expectations come from the script, not from the code."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from simcord import SetupError

from tests.helpers import create_cohort, private_channel, restart, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
NEED, FEEDBACK_NEED = 20, 10
FEEDBACK = "I recognised that pull to fix things quickly, and your honesty about it helped me."
SHORT_FEEDBACK = "So well said!"

# Per round, per member (by index): on-time words, late words, feedback targets, short
# feedback targets, excused.
SCRIPT = {
    1: {
        0: dict(on=[40], to=[1, 2]),
        1: dict(on=[15, 15], to=[0]),
        2: dict(on=[10], short_to=[0]),
        3: dict(late=[45], to=[0]),
        4: dict(),
        5: dict(excused=True),
    },
    2: {
        0: dict(on=[25], to=[3]),
        1: dict(late=[5, 30]),
        2: dict(on=[22], to=[0, 1]),
        3: dict(on=[50], to=[2]),
        4: dict(on=[3]),
        5: dict(on=[21], to=[0]),
    },
    3: {
        0: dict(on=[60]),
        1: dict(on=[20], to=[0, 5]),
        2: dict(),
        3: dict(excused=True),
        4: dict(late=[80], short_to=[1]),
        5: dict(on=[19, 1], to=[1]),
    },
}


def words(n: int) -> str:
    return " ".join(["reflecting"] * n)


# ----------------------------------------------------------- the independent model


def expected(round_no: int, member: int) -> dict:
    acts = SCRIPT[round_no][member]
    on, late = sum(acts.get("on", [])), sum(acts.get("late", []))
    if acts.get("excused"):
        status = "excused"
    elif on >= NEED:
        status = "on_time"
    elif on + late >= NEED:
        status = "late"
    elif on + late > 0:
        status = "short"
    else:
        status = "missing"
    received = sum(
        1 for other, a in SCRIPT[round_no].items() if other != member and member in a.get("to", [])
    )
    return dict(
        status=status,
        words=on + late,
        given=len(set(acts.get("to", []))),
        received=received,
        short_feedback=len(acts.get("short_to", [])),
        last_call=not acts.get("excused") and on < NEED,
    )


STATUS_WORDS = {
    "on_time": "✅ on time",
    "late": "🕒 late",
    "short": "✏️ too short",
    "missing": "— missing",
    "excused": "excused",
}


# ------------------------------------------------------------------- the term itself


async def play_term(world):
    world.members.extend(
        world.guild.add_member(world.env.create_user(n), roles=[world.learners])
        for n in ("eli", "fay")
    )
    await create_cohort(
        world,
        "Autumn",
        min_words=NEED,
        feedback_min_words=FEEDBACK_NEED,
        reflect_nudge_hours=0,
        feedback_nudge_hours=0,
    )
    members = world.members
    for number, acts in SCRIPT.items():
        slot = FIRST_SLOT + (number - 1) * WEEK
        await tick_at(world, slot)
        thread = sorted(world.channel.threads, key=lambda t: t.id)[number - 1]
        firsts = {}
        for index, act in acts.items():
            if act.get("excused"):
                await world.admin.slash(
                    world.channel, "cohort excuse", name="Autumn", member=members[index]
                )
            for n in act.get("on", []):
                message = await members[index].send(thread, words(n))
                firsts.setdefault(index, message)
        await tick_at(world, slot + timedelta(hours=72))  # deadline: last calls, pairs
        await tick_at(world, slot + timedelta(hours=73))
        for index, act in acts.items():
            for n in act.get("late", []):
                message = await members[index].send(thread, words(n))
                firsts.setdefault(index, message)
        for index, act in acts.items():
            for target in act.get("to", []):
                await members[index].send(thread, FEEDBACK, reply_to=firsts[target])
            for target in act.get("short_to", []):
                await members[index].send(thread, SHORT_FEEDBACK, reply_to=firsts[target])
        await tick_at(world, slot + timedelta(hours=144))  # feedback closes: digest
    return members


def name(member) -> str:
    return member.member.display_name


async def test_round_reports_match_the_script(world):
    members = await play_term(world)
    for number in SCRIPT:
        result = await world.admin.slash(
            world.channel, "report round", cohort="Autumn", round=number
        )
        assert result.ephemeral
        card = result.response.embeds[0]
        fields = {f.name.split(" (")[0]: f.value for f in card.fields}
        rows = [expected(number, i) for i in range(6)]
        counted = sum(r["status"] in ("on_time", "late") for r in rows)
        on_time = sum(r["status"] == "on_time" for r in rows)
        late = sum(r["status"] == "late" for r in rows)
        assert fields["Reflections"] == f"{counted} of 6 counted · {on_time} on time · {late} late"
        missing = sorted(
            name(m) for m, r in zip(members, rows, strict=True) if r["status"] == "missing"
        )
        listed = fields["Still missing"]
        assert sorted(listed.split(", ")) == missing if missing else listed == "nobody"
        assert fields["Nudges sent"] == str(sum(r["last_call"] for r in rows))
        short_feedback = sum(r["short_feedback"] for r in rows)
        given = sum(r["given"] for r in rows)
        assert (
            fields["Feedback"] == f"{given} counted responses · {short_feedback} under the minimum"
        )
        for member, r in zip(members, rows, strict=True):
            line = (
                f"{name(member)}: {STATUS_WORDS[r['status']]} · {r['words']} words · "
                f"gave {r['given']} · received {r['received']}"
            )
            assert line in card.description


async def test_member_reports_match_the_script(world):
    members = await play_term(world)
    for index, member in enumerate(members):
        result = await world.admin.slash(
            world.channel, "report member", cohort="Autumn", member=member
        )
        card = result.response.embeds[0]
        fields = {f.name: f.value for f in card.fields}
        rows = [expected(n, index) for n in SCRIPT]
        count = {s: sum(r["status"] == s for r in rows) for s in STATUS_WORDS}
        assert fields["Reflections"] == (
            f"{count['on_time']} on time · {count['late']} late · {count['short']} too short · "
            f"{count['missing']} missing · {count['excused']} excused"
        )
        assert fields["Feedback given"] == str(sum(r["given"] for r in rows))
        assert fields["Feedback received"] == str(sum(r["received"] for r in rows))
        counted = [r["words"] for r in rows if r["status"] in ("on_time", "late")]
        average = f"{sum(counted) / len(counted):.0f}" if counted else "—"
        assert fields["Average words"] == average
        streak = 0
        for r in reversed(rows):
            if r["status"] in ("on_time", "late"):
                streak += 1
            elif r["status"] != "excused":
                break
        assert fields["Current streak"] == f"{streak} round(s)"


async def test_csv_export_matches_the_script_and_round_trips(world):
    members = await play_term(world)
    result = await world.admin.slash(
        world.channel, "report export", cohort="Autumn", include_text=True
    )
    [attachment] = result.response.attachments
    raw = await attachment.read()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM so spreadsheets detect it"
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    ids = {str(m.id): i for i, m in enumerate(members)}
    reflections = [r for r in table if r["kind"] == "reflection"]
    feedback = [r for r in table if r["kind"] == "feedback"]
    expected_reflections = {(n, i) for n in SCRIPT for i in range(6) if expected(n, i)["words"] > 0}
    assert {(int(r["round"]), ids[r["member_id"]]) for r in reflections} == expected_reflections
    for row in reflections:
        e = expected(int(row["round"]), ids[row["member_id"]])
        assert int(row["word_count"]) == e["words"]
        assert row["counted"] == ("yes" if e["status"] in ("on_time", "late") else "no")
        assert row["member_name"] == name(members[ids[row["member_id"]]])
        datetime.fromisoformat(row["posted_at"])  # ISO 8601
    n_feedback = sum(
        len(a.get("to", [])) + len(a.get("short_to", []))
        for acts in SCRIPT.values()
        for a in acts.values()
    )
    assert len(feedback) == n_feedback
    assert all(r["text"] in (FEEDBACK, SHORT_FEEDBACK) for r in feedback)
    assert {r["counted"] for r in feedback if r["text"] == SHORT_FEEDBACK} == {"no"}
    figures = await world.admin.slash(world.channel, "report export", cohort="Autumn")
    header = (await figures.response.attachments[0].read()).decode("utf-8-sig").splitlines()[0]
    assert "text" not in header.split(",")


async def test_csv_round_trips_awkward_text(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    awkward = 'She said, "I can\'t"; then\nwe sat — 🙂 — in silence, ,,'
    await world.members[0].send(thread, awkward)
    await world.members[1].send(thread, '=HYPERLINK("http://example.org")')
    result = await world.admin.slash(
        world.channel, "report export", cohort="Autumn", include_text=True
    )
    raw = (await result.response.attachments[0].read()).decode("utf-8-sig")
    texts = [row["text"] for row in csv.DictReader(io.StringIO(raw))]
    assert awkward in texts
    assert '\'=HYPERLINK("http://example.org")' in texts, "formula injection is neutralised"


async def test_digest_goes_to_facilitators_once_with_the_chart(world, settings, bots):
    await play_term(world)
    await restart(world.env, settings, bots)
    await world.bot.tick(FIRST_SLOT + 2 * WEEK + timedelta(hours=145))
    digests = [m for m in world.facilitator.user.dm_channel.history() if m.embeds]
    assert [d.embeds[0].title.split(":")[0] for d in digests] == [
        f"Digest · Autumn · round {n}" for n in SCRIPT
    ]
    assert all(any(a.filename == "participation.png" for a in d.attachments) for d in digests)
    png = await digests[-1].attachments[0].read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_digest_channel_option(world):
    room = private_channel(world)  # digests name members: learners must not read them
    await create_cohort(world, "Autumn")
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", digest_channel=room)
    await tick_at(world, FIRST_SLOT)
    await tick_at(world, FIRST_SLOT + timedelta(hours=144))
    [digest] = [m for m in room.history() if m.embeds]
    assert digest.embeds[0].title.startswith("Digest · Autumn · round 1")


async def test_chart_is_a_png_rendered_off_the_event_loop(world, monkeypatch):
    import asyncio
    import time

    from bot.core.chart import figure_size

    await play_term(world)
    extension = world.bot.extensions["cogs.reports"]  # the module as the bot loaded it
    real_render = extension.render_heatmap
    beats: list[float] = []

    def slow_render(grid):
        png = real_render(grid)
        time.sleep(0.3)  # stands in for a big chart; the loop must keep running meanwhile
        return png

    async def heartbeat():
        while True:
            beats.append(time.perf_counter())
            await asyncio.sleep(0.005)

    monkeypatch.setattr(extension, "render_heatmap", slow_render)
    beating = asyncio.create_task(heartbeat())
    try:
        result = await world.admin.slash(world.channel, "report chart", cohort="Autumn")
    finally:
        beating.cancel()
    assert len(beats) > 20, "the event loop kept answering while the chart rendered"
    assert result.ephemeral
    [attachment] = result.response.attachments
    png = await attachment.read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    import io as _io

    from matplotlib.image import imread

    height, width = imread(_io.BytesIO(png), format="png").shape[:2]
    inches = figure_size(6, 3)
    assert (width, height) == (round(inches[0] * 100), round(inches[1] * 100))


@pytest.mark.parametrize("command", ["round", "member", "export", "chart"])
async def test_members_get_no_report(world, command):
    await create_cohort(world, "Autumn")
    options = {"cohort": "Autumn"}
    if command == "member":
        options["member"] = world.members[1]
    with pytest.raises(SetupError, match="default-member-permissions"):
        await world.members[0].slash(world.channel, f"report {command}", **options)


async def test_round_report_fits_discord_at_200_members(world):
    world.members.extend(
        world.guild.add_member(world.env.create_user(f"learner{i:03d}"), roles=[world.learners])
        for i in range(196)
    )
    await create_cohort(world, "Big")
    await tick_at(world, FIRST_SLOT)
    result = await world.admin.slash(world.channel, "report round", cohort="Big")
    card = result.response.embeds[0]
    assert len(card) <= 6000 and len(card.description or "") <= 4096
    [table] = result.response.attachments
    lines = (await table.read()).decode("utf-8").splitlines()
    assert len(lines) == 200 and "0 of 200 counted" in card.fields[0].value
