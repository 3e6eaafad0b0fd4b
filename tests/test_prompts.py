"""``/prompt``: the bank through the real commands, including the long-prompt form and import."""

from __future__ import annotations

import pytest
from simcord import SetupError

from bot.core import limits
from tests.helpers import create_cohort, refused


async def bank(world) -> list[tuple[int, str]]:
    rows = await world.db.fetch_all("SELECT position, title FROM prompts ORDER BY position")
    return [(row["position"], row["title"]) for row in rows]


async def test_new_cohort_gets_the_default_bank(world):
    await create_cohort(world, "Autumn")
    assert len(await bank(world)) >= 24


async def test_add_with_text_and_title(world):
    await create_cohort(world, "Autumn")
    before = len(await bank(world))
    result = await world.admin.slash(
        world.channel,
        "prompt add",
        cohort="Autumn",
        text="Describe a time a client surprised you. What did you assume before?",
        title="Surprises",
    )
    assert result.ephemeral and f"Added prompt {before + 1}" in result.response.content
    assert (await bank(world))[-1] == (before + 1, "Surprises")


async def test_add_without_text_opens_a_form_with_structure(world):
    await create_cohort(world, "Autumn")
    shown = await world.admin.slash(world.channel, "prompt add", cohort="Autumn")
    assert shown.modal is not None
    long_text = "Think about a session that did not go to plan. " * 25
    done = await world.admin.submit_modal(
        shown,
        {
            "title": "",
            "text": long_text,
            "structure": "What happened?\nWhat did you feel?\nWhat will you try?",
        },
    )
    assert done.ephemeral and "Added prompt" in done.response.content
    row = await world.db.fetch_one("SELECT * FROM prompts ORDER BY position DESC LIMIT 1")
    assert row["text"] == long_text.strip()
    assert row["title"] == "Think about a session that did not go to plan."
    assert row["structure"] == '["What happened?", "What did you feel?", "What will you try?"]'


async def test_add_rejects_oversized_text(world):
    await create_cohort(world, "Autumn")
    before = await bank(world)
    result = await world.admin.slash(
        world.channel,
        "prompt add",
        cohort="Autumn",
        text="x" * (limits.MAX_PROMPT_TEXT_CHARS + 1),
        title="Too long",
    )
    refused(world.env, result, "longer than 1500 characters")
    assert await bank(world) == before


async def test_list_pages(world):
    await create_cohort(world, "Autumn")
    total = len(await bank(world))
    first = await world.admin.slash(world.channel, "prompt list", cohort="Autumn")
    card = first.response.embeds[0]
    assert card.description.count("\n") == 9  # ten prompts a page
    assert card.footer.text == f"Page 1 of {-(-total // 10)} · {total} prompts"
    last = await world.admin.slash(world.channel, "prompt list", cohort="Autumn", page=99)
    assert f"Page {-(-total // 10)} of" in last.response.embeds[0].footer.text


async def test_remove_and_move_keep_positions_dense(world):
    await create_cohort(world, "Autumn")
    original = [title for _, title in await bank(world)]
    await world.admin.slash(world.channel, "prompt remove", cohort="Autumn", number=2)
    await world.admin.slash(world.channel, "prompt move", cohort="Autumn", number=1, position=3)
    expected = original[:1] + original[2:]
    expected.insert(2, expected.pop(0))
    assert await bank(world) == list(enumerate(expected, start=1))

    missing = await world.admin.slash(world.channel, "prompt remove", cohort="Autumn", number=999)
    refused(world.env, missing, "has no prompt 999")


async def test_import_text_file_reports_added_and_rejected(world):
    await create_cohort(world, "Autumn")
    before = len(await bank(world))
    content = (
        b"# Naming a feeling\nWhat did you feel in the room, and when did you notice it?\n"
        b"\n---\n\n"
        b"# \n\n"  # a heading with no title and no text
        b"\n---\n\n"
        b"Title: Closing well\nHow did you end your last session? Structure: What? | Why?\n"
    )
    result = await world.admin.slash(
        world.channel, "prompt import", cohort="Autumn", file=("bank.md", content)
    )
    report = result.response.embeds[0].description
    assert result.ephemeral and "Added **2** prompt(s)" in report
    assert "Not added (1)" in report and "line 6" in report
    titles = [t for _, t in await bank(world)][before:]
    assert titles == ["Naming a feeling", "Closing well"]


async def test_import_csv(world):
    await create_cohort(world, "Autumn")
    csv = 'title,text\nA plan of their own,"Whose plan was it, really? Say how you knew."\n'
    result = await world.admin.slash(
        world.channel, "prompt import", cohort="Autumn", file=("bank.csv", csv.encode())
    )
    assert "Added **1** prompt(s)" in result.response.embeds[0].description
    row = await world.db.fetch_one("SELECT * FROM prompts ORDER BY position DESC LIMIT 1")
    assert row["text"] == "Whose plan was it, really? Say how you knew."


@pytest.mark.parametrize(
    ("filename", "data", "reason"),
    [
        ("bank.pdf", b"%PDF-1.7", "only .txt, .md and .csv"),
        ("bank.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        ("bank.txt", "Réflexion".encode("latin-1"), "not UTF-8"),
        ("bank.csv", b"name,body\nx,y\n", '"text" column'),
        ("bank.txt", b"", "empty"),
    ],
)
async def test_import_rejects_bad_files_with_reasons_and_adds_nothing(
    world, filename, data, reason
):
    await create_cohort(world, "Autumn")
    before = await bank(world)
    result = await world.admin.slash(
        world.channel, "prompt import", cohort="Autumn", file=(filename, data)
    )
    report = result.response.embeds[0].description
    assert "Added **0** prompt(s)" in report and reason in report
    assert await bank(world) == before


async def test_import_refuses_huge_file_before_downloading(world):
    await create_cohort(world, "Autumn")
    result = await world.admin.slash(
        world.channel,
        "prompt import",
        cohort="Autumn",
        file=("bank.txt", b"a" * (limits.MAX_IMPORT_BYTES + 1)),
    )
    refused(world.env, result, "larger than 256 KB")


async def test_bank_limit(world):
    await create_cohort(world, "Autumn")
    existing = len(await bank(world))
    room = limits.MAX_PROMPTS_PER_COHORT - existing
    blocks = "\n\n---\n\n".join(f"# Prompt {i}\nQuestion number {i}?" for i in range(room + 3))
    result = await world.admin.slash(
        world.channel, "prompt import", cohort="Autumn", file=("many.txt", blocks.encode())
    )
    report = result.response.embeds[0].description
    assert f"Added **{room}** prompt(s)" in report and "3 prompt(s) not added" in report
    assert len(await bank(world)) == limits.MAX_PROMPTS_PER_COHORT
    full = await world.admin.slash(
        world.channel, "prompt add", cohort="Autumn", text="One more?", title="More"
    )
    refused(world.env, full, "already holds 200 prompts")


@pytest.mark.parametrize("command", ["add", "list", "remove", "move", "import", "post"])
async def test_members_cannot_see_or_run_prompt_commands(world, command):
    await create_cohort(world, "Autumn")
    member = world.members[0]
    assert not any(c.startswith("prompt") for c in member.available_commands(world.channel))
    with pytest.raises(SetupError, match="default-member-permissions"):
        await member.slash(world.channel, f"prompt {command}", cohort="Autumn")


async def test_post_with_empty_bank_is_refused(world):
    await create_cohort(world, "Autumn")
    for position in range(len(await bank(world)), 0, -1):
        await world.admin.slash(world.channel, "prompt remove", cohort="Autumn", number=position)
    result = await world.admin.slash(world.channel, "prompt post", cohort="Autumn")
    refused(world.env, result, "has no prompts yet")
    assert await world.db.fetch_value("SELECT COUNT(*) FROM rounds") == 0


async def test_importing_the_same_file_twice_adds_nothing_the_second_time(world):
    await create_cohort(world, "Autumn")
    content = b"# One\nFirst question?\n\n---\n\n# Two\nSecond question?\n"
    await world.admin.slash(world.channel, "prompt import", cohort="Autumn", file=("a.md", content))
    before = await bank(world)
    again = await world.admin.slash(
        world.channel, "prompt import", cohort="Autumn", file=("a.md", content)
    )
    report = again.response.embeds[0].description
    assert "Added **0** prompt(s)" in report and "2 prompt(s) are already in the bank" in report
    assert await bank(world) == before
