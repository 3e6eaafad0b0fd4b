"""Reports against a scripted term: expectations come from the script, not from the code."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from simcord import SetupError

from tests.helpers import create_cohort, private_channel, refused, restart, show_command_to, tick_at

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
    "not_yet": "⏳ not yet",
    "excused": "excused",
}


def spreadsheet_keeps_as_text(cell: str) -> bool:
    """A Discord id cell that Excel and LibreOffice leave as text: not a number they would
    round to 15 digits, not a formula; and a program gets the id back exactly."""
    try:
        float(cell)
        return False
    except ValueError:
        pass
    return not cell.startswith(("=", "+", "-", "@", "'")) and int(cell.lstrip("#")) >= 10**16


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
        expected_to_reflect = sum(r["status"] != "excused" for r in rows)
        assert fields["Reflections"] == (
            f"{counted} of {expected_to_reflect} counted · {on_time} on time · {late} late"
        ), "excused members are not among those expected to reflect"
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
    ids = {f"#{m.id}": i for i, m in enumerate(members)}
    for row in table:
        for column in ("member_id", "to_member_id"):
            assert row[column] == "" or spreadsheet_keeps_as_text(row[column]), row[column]
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
    assert all(r["to_member_id"] in ids for r in feedback)
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


async def cohort_row(world, name: str = "Autumn"):
    return await world.db.fetch_one(
        "SELECT digest_channel_id, facilitator_role_id, updated_at FROM cohorts WHERE name = ?",
        (name,),
    )


async def test_cohort_edit_clears_the_digest_channel_back_to_dms(world):
    room = private_channel(world)
    await create_cohort(world, "Autumn")
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", digest_channel=room)
    result = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", clear="digest_channel"
    )
    assert result.ephemeral
    card = {f.name: f.value for f in result.response.embeds[0].fields}
    assert card["Digests"] == "by DM"
    assert (await cohort_row(world))["digest_channel_id"] is None
    await tick_at(world, FIRST_SLOT)
    await tick_at(world, FIRST_SLOT + timedelta(hours=144))
    assert not [m for m in room.history() if m.embeds]
    dms = [m for m in world.facilitator.user.dm_channel.history() if m.embeds]
    assert dms[-1].embeds[0].title.startswith("Digest · Autumn · round 1")


async def test_cohort_edit_clears_the_facilitator_role_only_kindly(world):
    room = private_channel(world)
    await create_cohort(world, "Autumn")
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", digest_channel=room)
    before = await cohort_row(world)

    both = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", digest_channel=room, clear="digest_channel"
    )
    refused(world.env, both, "both to set `digest_channel` and to clear it")
    await show_command_to(world, "cohort", world.facilitators)
    lockout = await world.facilitator.slash(
        world.channel, "cohort edit", name="Autumn", clear="facilitator_role"
    )
    refused(world.env, lockout, "leave you unable to manage **Autumn**")
    assert await cohort_row(world) == before, "a refused edit stores nothing"

    result = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", clear="facilitator_role"
    )
    card = {f.name: f.value for f in result.response.embeds[0].fields}
    assert card["Facilitator role"] == "—"
    assert (await cohort_row(world))["facilitator_role_id"] is None
    assert (await cohort_row(world))["digest_channel_id"] == room.id, "only what was named"


async def test_chart_is_a_png_of_the_cohort(world):
    """The picture's size follows the cohort (6 members × 3 rounds); that drawing it keeps
    the event loop free is tests/test_loop_guard.py's job."""
    import io as _io

    from PIL import Image

    from bot.core.chart import figure_size

    await play_term(world)
    result = await world.admin.slash(world.channel, "report chart", cohort="Autumn")
    assert result.ephemeral
    [attachment] = result.response.attachments
    png = await attachment.read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(_io.BytesIO(png)) as image:
        width, height = image.size
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


async def test_participation_export_has_every_member_in_every_round(world):
    members = await play_term(world)
    result = await world.admin.slash(
        world.channel, "report export", cohort="Autumn", kind="participation"
    )
    assert result.ephemeral
    [attachment] = result.response.attachments
    assert attachment.filename == "autumn-participation.csv"
    raw = await attachment.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    ids = {f"#{m.id}": i for i, m in enumerate(members)}
    assert len(table) == len(SCRIPT) * len(members), "one row per member per round"
    seen = set()
    for row in table:
        number, index = int(row["round"]), ids[row["member_id"]]
        seen.add((number, index))
        e = expected(number, index)
        opened = (FIRST_SLOT + (number - 1) * WEEK).date().isoformat()
        assert row["round_date"] == opened
        assert row["member_name"] == name(members[index])
        assert row["status"] == e["status"]
        assert int(row["reflection_words"]) == e["words"]
        assert int(row["feedback_given"]) == e["given"]
        assert int(row["feedback_short"]) == e["short_feedback"]
        assert int(row["feedback_received"]) == e["received"]
        assert spreadsheet_keeps_as_text(row["member_id"])
    assert seen == {(n, i) for n in SCRIPT for i in range(len(members))}
    statuses = {row["status"] for row in table}
    assert {"missing", "excused"} <= statuses, "the rows the posts export can't show"
    posts = await world.admin.slash(world.channel, "report export", cohort="Autumn")
    header = (await posts.response.attachments[0].read()).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("round,prompt_title,member_id"), "the default export is unchanged"


async def test_exports_neutralise_formulas_in_member_names(world):
    sly = world.guild.add_member(
        world.env.create_user('=HYPERLINK("http://x.example")'), roles=[world.learners]
    )
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    await sly.send(thread, words(5))
    for kind in ("posts", "participation"):
        result = await world.admin.slash(world.channel, "report export", cohort="Autumn", kind=kind)
        raw = (await result.response.attachments[0].read()).decode("utf-8-sig")
        rows = [r for r in csv.DictReader(io.StringIO(raw)) if r["member_id"] == f"#{sly.id}"]
        assert rows, kind
        assert all(r["member_name"] == '\'=HYPERLINK("http://x.example")' for r in rows), kind


async def test_an_open_round_says_not_yet_until_its_deadline(world):
    from bot.core import reports
    from bot.core.cohorts import get_cohort
    from bot.core.ports import Person

    await create_cohort(world, "Autumn", min_words=5)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben = world.members[0], world.members[1]
    await ada.send(thread, words(10))
    await tick_at(world, FIRST_SLOT + timedelta(hours=1))

    result = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    card = result.response.embeds[0]
    fields = {f.name.split(" (")[0]: f.value for f in card.fields}
    assert "Still missing" not in fields
    assert name(ben) in fields["Not yet"].split(", ")
    assert f"{name(ben)}: ⏳ not yet" in card.description
    assert "missing" not in card.description
    member = await world.admin.slash(world.channel, "report member", cohort="Autumn", member=ben)
    assert {f.name: f.value for f in member.response.embeds[0].fields}["Reflections"] == (
        "0 on time · 0 late · 0 too short · 0 missing · 0 excused · 1 not yet"
    )
    export = await world.admin.slash(
        world.channel, "report export", cohort="Autumn", kind="participation"
    )
    raw = (await export.response.attachments[0].read()).decode("utf-8-sig")
    by_id = {r["member_id"]: r["status"] for r in csv.DictReader(io.StringIO(raw))}
    assert by_id[f"#{ada.id}"] == "on_time" and by_id[f"#{ben.id}"] == "not_yet"

    cohort = await get_cohort(world.db, world.guild.id, "Autumn")
    roster = [Person(m.id, name(m)) for m in world.members]
    history = await reports.load_history(
        world.db, cohort, roster, now=FIRST_SLOT + timedelta(hours=1)
    )
    cells = reports.grid(history)
    assert cells.round_labels == ("R1\n5 Jan",), "rounds are labelled with their date"
    assert {c.status for row in cells.cells for c in row} == {"on_time", "not_yet"}

    await tick_at(world, FIRST_SLOT + timedelta(hours=73))  # the reflection deadline passed
    result = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    fields = {f.name.split(" (")[0]: f.value for f in result.response.embeds[0].fields}
    assert name(ben) in fields["Still missing"].split(", ") and "Not yet" not in fields


async def test_someone_who_only_gave_feedback_and_left_is_still_listed(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, leaver = world.members[0], world.members[3]
    reflection = await ada.send(thread, words(30))
    await leaver.send(thread, FEEDBACK, reply_to=reflection)
    departed = name(leaver)
    world.guild.remove_member(leaver)

    result = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    card = result.response.embeds[0]
    assert f"{departed}: ⏳ not yet · 0 words · gave 1 · received 0" in card.description
    assert f"{name(ada)}: ✅ on time · 30 words · gave 0 · received 1" in card.description
