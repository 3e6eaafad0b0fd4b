"""Property-based hostile input through the real command handlers (SimCord).

Each example either succeeds or gets a kind refusal; the database stays consistent
(integrity and foreign keys) and no error escapes as unexpected.
"""

from __future__ import annotations

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.errors import PraxisError
from bot.core.text import count_words, tidy_line
from tests.helpers import create_cohort

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text a Discord client can send in a string option: no lone surrogates or NULs.
typed = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=100,
)


def only_known_errors(env) -> None:
    for error in env.errors:
        original = getattr(error, "original", error)
        assert isinstance(original, PraxisError) or isinstance(
            error, discord.app_commands.TransformerError
        ), repr(error)


async def consistent(db) -> None:
    assert await db.integrity_ok()
    if db.dialect == "sqlite":  # PostgreSQL checks every foreign key as it is written
        assert await db.fetch_all("PRAGMA foreign_key_check") == []


def answered(result) -> str:
    assert result.ephemeral
    return (result.response.content if result.response else "") + "".join(
        m.content for m in result.followups
    )


# Names that look like something and are nothing: punctuation, symbols, blanks, fillers.
lookalike = st.text(
    st.sampled_from("*_-. 🙂\u3164\uffa0\u115f\u2800\u200b\u200d\u0301a"), min_size=1
)


@SETTINGS
@given(
    name=typed.map(lambda s: s[:50]),
    timezone=typed,
    time=typed,
    numbers=st.tuples(st.integers(1, 1344), st.integers(1, 1344), st.integers(0, 5)),
)
async def test_cohort_create_with_anything(world, name, timezone, time, numbers):
    reflect, feedback, required = numbers
    before = await world.db.fetch_value("SELECT COUNT(*) FROM cohorts")
    result = await create_cohort(
        world,
        name,
        timezone=timezone,
        time=time,
        reflect_hours=reflect,
        feedback_hours=feedback,
        feedback_required=required,
    )
    after = await world.db.fetch_value("SELECT COUNT(*) FROM cohorts")
    text = answered(result)
    assert (after == before + 1) == text.startswith("Created"), text
    only_known_errors(world.env)
    await consistent(world.db)


@SETTINGS
@given(name=st.one_of(typed, lookalike).map(lambda s: s[:50]))
async def test_cohort_names_with_anything(world, name):
    """A name is refused kindly, or stored tidy with a letter or digit people can see."""
    result = await create_cohort(world, name)
    text = answered(result)
    stored = await world.db.fetch_value("SELECT name FROM cohorts")
    if stored is None:
        assert "needs at least one letter or number" in text, text
    else:
        assert text.startswith(f"Created **{stored}**"), text
        assert count_words(stored) > 0 and stored == tidy_line(stored), repr(stored)
        async with world.db.transaction() as tx:
            await tx.execute("DELETE FROM cohorts")
    only_known_errors(world.env)
    await consistent(world.db)


@SETTINGS
@given(text=st.text(min_size=1, max_size=3000), title=st.one_of(st.none(), typed))
async def test_prompt_add_with_anything(world, text, title):
    if await world.db.fetch_value("SELECT COUNT(*) FROM cohorts") == 0:
        await create_cohort(world, "Autumn")
    text = text.replace("\x00", "") or "?"
    result = await world.admin.slash(
        world.channel,
        "prompt add",
        cohort="Autumn",
        text=text,
        **({"title": title} if title else {}),
    )
    reply = answered(result)
    assert reply.startswith("Added prompt") or "couldn't add" in reply or "holds" in reply, reply
    only_known_errors(world.env)
    await consistent(world.db)


@SETTINGS
@given(
    filename=st.sampled_from(["p.txt", "p.md", "p.csv", "p.pdf", "P.TXT", "noext"]),
    data=st.one_of(
        st.binary(max_size=4000),
        st.text(max_size=4000).map(lambda s: s.encode("utf-8")),
        st.text(max_size=2000).map(lambda s: s.encode("utf-16")),
    ),
)
async def test_prompt_import_with_anything(world, filename, data):
    if await world.db.fetch_value("SELECT COUNT(*) FROM cohorts") == 0:
        await create_cohort(world, "Autumn")
    result = await world.admin.slash(
        world.channel, "prompt import", cohort="Autumn", file=(filename, data or b" ")
    )
    assert result.ephemeral
    assert "Added **" in result.response.embeds[0].description
    only_known_errors(world.env)
    await consistent(world.db)


@SETTINGS
@given(date=typed)
async def test_skip_with_anything(world, date):
    if await world.db.fetch_value("SELECT COUNT(*) FROM cohorts") == 0:
        await create_cohort(world, "Autumn")
    result = await world.admin.slash(world.channel, "cohort skip", name="Autumn", date=date)
    answered(result)
    only_known_errors(world.env)
    await consistent(world.db)
