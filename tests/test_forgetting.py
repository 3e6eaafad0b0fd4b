"""Forgetting that really forgets: after ``/me forget`` or a retention purge the removed
text is in none of the files SQLite writes, later edits store nothing, and the
pseudonymous rows no longer lead back to the member's account or messages."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import forget as forget_bench
from tests.helpers import create_cohort, restart, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
THREAD_PHRASE = "Lighthouse marmalade quokka"
FORM_PHRASE = "Saxophone pomegranate axolotl"
THEIR_PHRASE = "Periwinkle tambourine walrus"


def words(n: int, word: str = "honesty") -> str:
    return " ".join([word] * n)


def database_files(db_path: Path) -> dict[str, bytes]:
    """The raw bytes of every file the database uses: the main file, -wal, -shm, any journal."""
    found = {p.name: p.read_bytes() for p in db_path.parent.glob(db_path.name + "*")}
    assert db_path.name in found
    return found


def on_disk(db_path: Path, phrase: str) -> list[str]:
    return [name for name, data in database_files(db_path).items() if phrase.encode() in data]


def sqlite_encodings(number: int) -> list[bytes]:
    """How SQLite writes an integer: in a record (big-endian) and as a rowid (varint)."""
    encoded = [number.to_bytes(8, "big", signed=True)]
    if -(2**47) <= number < 2**47:
        encoded.append(number.to_bytes(6, "big", signed=True))
    value, tail = number & (2**64 - 1), []
    if value >= 2**56:
        tail, value = [value & 0xFF], value >> 8
        head = [value >> (7 * i) & 0x7F for i in range(8)][::-1]
    else:
        head = [value >> (7 * i) & 0x7F for i in range(8)][::-1]
        while len(head) > 1 and head[0] == 0:
            head.pop(0)
    encoded.append(bytes([b | 0x80 for b in head[:-1]] + [head[-1] | (0x80 if tail else 0)] + tail))
    return encoded


def ids_on_disk(db_path: Path, numbers: list[int]) -> list[int]:
    data = b"".join(database_files(db_path).values())
    return [n for n in numbers if any(e in data for e in sqlite_encodings(n))]


async def a_round_with_writing(world, *, write_at: datetime = FIRST_SLOT):
    """Ada writes in the thread and through the form; Ben answers her and she answers him."""
    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    await tick_at(world, write_at)
    [thread] = world.channel.threads
    ada, ben = world.members[:2]
    mine = await ada.send(thread, f"{THREAD_PHRASE}: my client and I " + words(20))
    theirs = await ben.send(thread, f"{THEIR_PHRASE} " + words(20, "boundaries"))
    answer = await ada.send(thread, "Your point about pacing stayed with me.", reply_to=theirs)
    await ben.send(thread, "Thank you for writing so openly about this.", reply_to=mine)
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    shown = await ada.click(prompt, label="Write reflection")
    await ada.submit_modal(shown, {"section_0": f"{FORM_PHRASE} " + words(15)})
    return thread, mine, theirs, answer


async def forget(world, member):
    asked = await member.slash(world.channel, "me forget")
    done = await member.click(asked.response, label="Delete my data")
    return done.response.content  # the deferred reply, filled in by the follow-up


@pytest.mark.sqlite_only("reads the SQLite files' bytes")
async def test_forgotten_texts_are_in_no_database_file(world, db_path):
    _, mine, _, answer = await a_round_with_writing(world)
    ada = world.members[0]
    ada_messages = [
        row["message_id"]
        for row in await world.db.fetch_all(
            "SELECT message_id FROM posts WHERE author_id = ?", (ada.id,)
        )
    ]
    assert {mine.id, answer.id} < set(ada_messages)
    assert on_disk(db_path, THREAD_PHRASE) and on_disk(db_path, FORM_PHRASE)
    assert ids_on_disk(db_path, [ada.id, *ada_messages]) == [ada.id, *ada_messages]

    said = await forget(world, ada)

    assert "No copy is left in Praxis's database files" in said
    assert on_disk(db_path, THREAD_PHRASE) == []
    assert on_disk(db_path, FORM_PHRASE) == []
    assert ids_on_disk(db_path, [ada.id, *ada_messages]) == [], "nothing leads back to her"
    assert on_disk(db_path, THEIR_PHRASE), "Ben's reflection is his, and stays"


async def pg_table_files(db) -> bytes:
    """The bytes of every table and index file of this PostgreSQL database (its WAL is
    the server's, kept until recycled: see docs/ARCHITECTURE.md), after a checkpoint has
    written every changed page out."""
    await db.fetch_value("CHECKPOINT")
    data_dir = Path(await db.fetch_value("SHOW data_directory"))
    oid = await db.fetch_value("SELECT oid FROM pg_database WHERE datname = current_database()")
    return b"".join(p.read_bytes() for p in (data_dir / "base" / str(oid)).iterdir())


@pytest.mark.postgresql_only
async def test_forgotten_texts_are_in_no_postgresql_table_file(world):
    await a_round_with_writing(world)
    ada = world.members[0]
    ada_messages = [
        row["message_id"]
        for row in await world.db.fetch_all(
            "SELECT message_id FROM posts WHERE author_id = ?", (ada.id,)
        )
    ]
    before = await pg_table_files(world.db)
    assert THREAD_PHRASE.encode() in before and FORM_PHRASE.encode() in before
    assert all(n.to_bytes(8, "little", signed=True) in before for n in ada_messages)

    said = await forget(world, ada)

    assert "No copy is left in Praxis's database files" in said
    after = await pg_table_files(world.db)
    assert THREAD_PHRASE.encode() not in after and FORM_PHRASE.encode() not in after
    assert [
        n for n in [ada.id, *ada_messages] if n.to_bytes(8, "little", signed=True) in after
    ] == []
    assert THEIR_PHRASE.encode() in after, "Ben's reflection is his, and stays"


@pytest.mark.postgresql_only
async def test_a_retention_purge_leaves_no_copy_in_postgresql_table_files(world):
    await a_round_with_writing(world)
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", retention_days=30)
    await tick_at(world, FIRST_SLOT + timedelta(days=29))
    assert THREAD_PHRASE.encode() in await pg_table_files(world.db)

    report = await tick_at(world, FIRST_SLOT + timedelta(days=31))

    assert report.purged > 0 and report.scrubbed is True
    after = await pg_table_files(world.db)
    for phrase in (THREAD_PHRASE, FORM_PHRASE, THEIR_PHRASE):
        assert phrase.encode() not in after, phrase


@pytest.mark.sqlite_only("reads the SQLite files' bytes")
async def test_a_retention_purge_leaves_no_copy_on_disk(world, db_path):
    await a_round_with_writing(world)
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", retention_days=30)
    await tick_at(world, FIRST_SLOT + timedelta(days=29))
    assert on_disk(db_path, THREAD_PHRASE) and on_disk(db_path, THEIR_PHRASE)

    report = await tick_at(world, FIRST_SLOT + timedelta(days=31))

    assert report.purged > 0 and report.scrubbed is True
    for phrase in (THREAD_PHRASE, FORM_PHRASE, THEIR_PHRASE):
        assert on_disk(db_path, phrase) == [], phrase


@pytest.mark.sqlite_only("reads the SQLite files' bytes")
async def test_a_reader_holding_the_file_delays_the_scrub_without_false_claims(world, db_path):
    await a_round_with_writing(world)
    ada = world.members[0]
    reader = sqlite3.connect(db_path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM posts").fetchall()  # a backup, say, mid-read
        said = await forget(world, ada)
        assert "No copy is left" not in said and "cleared within a few minutes" in said
        assert world.db.scrub_pending
        assert on_disk(db_path, THREAD_PHRASE), "honestly not gone from disk yet"
        report = await world.bot.tick(world.env.now())
        assert report.scrubbed is False and world.db.scrub_pending
    finally:
        reader.close()
    report = await world.bot.tick(world.env.now())
    assert report.scrubbed is True and not world.db.scrub_pending
    assert on_disk(db_path, THREAD_PHRASE) == [] and on_disk(db_path, FORM_PHRASE) == []


async def test_an_edit_after_forgetting_stores_no_text(world):
    thread, mine, _, _ = await a_round_with_writing(world)
    ada = world.members[0]
    await forget(world, ada)
    await ada.edit(mine, "Edited afterwards: " + words(30, "zeppelin"))
    await ada.send(thread, "A new note after forgetting.")  # she may go on writing
    rows = await world.db.fetch_all("SELECT text FROM posts WHERE text LIKE '%zeppelin%'")
    assert rows == []
    anonymous = await world.db.fetch_all("SELECT * FROM posts WHERE author_name = 'Former member'")
    assert anonymous and all(r["text"] is None and r["edited_at"] is None for r in anonymous)


async def test_an_edit_after_a_purge_stores_no_text(world):
    _, _, theirs, _ = await a_round_with_writing(world)
    ben = world.members[1]
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", retention_days=30)
    await tick_at(world, FIRST_SLOT + timedelta(days=31))
    before = await world.db.fetch_one("SELECT * FROM posts WHERE message_id = ?", (theirs.id,))

    await ben.edit(theirs, "Edited after the purge: " + words(5, "zeppelin"))

    after = await world.db.fetch_one("SELECT * FROM posts WHERE message_id = ?", (theirs.id,))
    assert after["text"] is None and after["word_count"] == before["word_count"]


async def test_no_row_keeps_her_ids_and_the_reports_keep_their_counts(world):
    # Everyone is reminded to reflect before writing.
    _, mine, _, answer = await a_round_with_writing(
        world, write_at=FIRST_SLOT + timedelta(hours=49)
    )
    ada, ben, admin = world.members[0], world.members[1], world.admin
    assert await world.db.fetch_value(
        "SELECT COUNT(*) FROM member_notes WHERE member_id = ? AND outcome = 'sent'", (ada.id,)
    )
    await admin.slash(world.channel, "cohort excuse", name="Autumn", member=ada)
    report = await admin.slash(world.channel, "report round", cohort="Autumn")
    before = {f.name: f.value for f in report.response.embeds[0].fields}

    await forget(world, ada)
    await forget(world, admin)  # who excused her: a facilitator's own rights

    rows = await world.db.fetch_all("SELECT * FROM posts")
    old_ids = {mine.id, answer.id}
    for row in rows:
        assert row["message_id"] not in old_ids
        assert row["reply_to_id"] not in old_ids and row["form_group"] not in old_ids
        assert ada.id not in (row["author_id"], row["target_id"])
    for table in ("excusals", "member_notes", "member_settings", "assignments", "notices"):
        found = await world.db.fetch_all(f"SELECT * FROM {table}")
        assert all({ada.id, admin.id}.isdisjoint(tuple(r)) for r in found), table
    [anonymous] = {r["author_id"] for r in rows if r["author_name"] == "Former member"}
    ben_feedback = next(r for r in rows if r["author_id"] == ben.id and r["kind"] == "feedback")
    her_first = ben_feedback["reply_to_id"]
    assert her_first < 0 and ben_feedback["target_id"] == anonymous
    assert any(r["message_id"] == her_first and r["author_id"] == anonymous for r in rows)

    # Deleting her old message in Discord no longer reaches the pseudonymous rows.
    words_before = sum(r["word_count"] for r in rows if r["author_id"] == anonymous)
    await ada.delete(mine)
    anonymous_rows = await world.db.fetch_all(
        "SELECT * FROM posts WHERE author_id = ?", (anonymous,)
    )
    assert sum(r["word_count"] for r in anonymous_rows) == words_before
    assert all(r["deleted_at"] is None for r in anonymous_rows)

    report = await admin.slash(world.channel, "report round", cohort="Autumn")
    after = {f.name: f.value for f in report.response.embeds[0].fields}
    assert before["Reflections"].startswith("1 of 3 counted")  # Ada excused (out of N), Ben counted
    assert after["Reflections"] == before["Reflections"].replace("of 3", "of 4")  # + her row
    assert after["Feedback"] == before["Feedback"]
    assert after["Nudges sent"] == before["Nudges sent"] != "0"
    assert before["Excused (1)"] == ada.member.display_name
    assert after["Excused (1)"] == "Former member"


async def test_a_restart_does_not_read_her_messages_back_in(env, world, settings, bots):
    thread, _, _, _ = await a_round_with_writing(world)
    ada = world.members[0]
    await ada.send(thread, f"{THREAD_PHRASE} again, the latest message in the thread.")
    await forget(world, ada)
    await restart(env, settings, bots)  # backfill reads the thread after the newest stored post
    assert (
        await world.db.fetch_value("SELECT COUNT(*) FROM posts WHERE author_id = ?", (ada.id,)) == 0
    )
    assert (
        await world.db.fetch_value(
            "SELECT COUNT(*) FROM posts WHERE text LIKE ?", (f"%{THREAD_PHRASE}%",)
        )
        == 0
    )


async def test_the_forget_bench_runs_at_a_tiny_size(capsys):
    await forget_bench.run(members=12, rounds=3)
    out = capsys.readouterr().out
    assert out.count("ok=True") == 2 and out.count("retention purge") == 2


@pytest.mark.postgresql_only
async def test_postgresql_rewrites_after_purges_at_most_hourly_and_at_once_after_a_forget(world):
    db = world.db
    await db.scrub(now=FIRST_SLOT)

    assert await db.scrub(now=FIRST_SLOT + timedelta(minutes=10)) is False
    assert db.scrub_pending, "a later tick does it"
    assert await db.scrub(vacuum=True) is True, "a forget doesn't wait"
    assert await db.scrub(now=FIRST_SLOT + timedelta(minutes=30)) is False
    assert await db.scrub(now=FIRST_SLOT + timedelta(minutes=61)) is True
    assert not db.scrub_pending
