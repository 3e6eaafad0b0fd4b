"""A plain member can run no facilitator action on Slack, by command, button or form."""

from __future__ import annotations

import pytest
import pytest_asyncio

from slacksim import SimError, SlackSim, View
from tests.slack_helpers import (
    assert_no_errors_logged,
    build_slack_world,
    create_cohort,
    prompts,
    start_praxis,
)

FACILITATOR_ACTIONS = [
    "create",
    "edit Autumn",
    "show Autumn",
    "pause Autumn",
    "resume Autumn",
    "delete Autumn",
    "skip Autumn 2026-02-02",
    "unskip Autumn 2026-02-02",
    "excuse Autumn <@{member}> 1",
    "prompts Autumn",
    "prompt-add Autumn",
    "prompt-remove Autumn 1",
    "prompt-move Autumn 1 2",
    "post Autumn",
    "report round Autumn",
    "report round Autumn 1",
    "report member Autumn <@{member}>",
    "report export Autumn",
    "report export Autumn posts text",
    "report export Autumn participation",
    "report chart Autumn",
]
TABLES = ("cohorts", "prompts", "rounds", "skips", "excusals", "member_settings", "posts")


@pytest_asyncio.fixture
async def world(tmp_path, caplog):
    async with SlackSim() as slack:
        world = build_slack_world(slack)
        await start_praxis(world, tmp_path / "praxis.db")
        await create_cohort(world)
        yield world
        for bot in world.bots:
            await bot.close()
    assert_no_errors_logged(caplog)


async def snapshot(world) -> dict[str, list]:
    async with world.db.reading() as tx:
        return {t: [tuple(r) for r in await tx.fetch_all(f"SELECT * FROM {t}")] for t in TABLES}


@pytest.mark.parametrize("action", FACILITATOR_ACTIONS)
async def test_a_member_is_refused_every_facilitator_command(world, action):
    member = world.members[0]
    before = await snapshot(world)
    outcome = await member.command(
        "/praxis", action.format(member=world.members[1].id), channel=world.room
    )
    assert outcome.view is None and not outcome.messages
    assert "Only" in outcome.text and "can do that" in outcome.text
    assert await snapshot(world) == before
    assert world.slack.files == {}  # no report file was sent anywhere


@pytest.mark.parametrize("action", [a for a in FACILITATOR_ACTIONS if a != "create"])
async def test_another_cohorts_facilitator_is_refused_every_action_on_this_one(world, action):
    """Olga facilitates Spring through its own user group; Autumn is not hers."""
    olga = world.ws.add_user("olga")
    spring = world.ws.create_channel("spring", members=[world.admin, olga], private=False)
    await world.ws.join(world.room, olga)  # she can even see Autumn's channel
    spring_staff = world.ws.create_usergroup("spring-staff", users=[olga])
    opened = await world.admin.command("/praxis", "create", channel=spring)
    await world.admin.submit(
        opened.view, {"name": "Spring", "channel": spring.id, "facilitators": spring_staff.id}
    )
    assert "Spring" in (await olga.command("/praxis", "show Spring", channel=spring)).text
    before = await snapshot(world)
    outcome = await olga.command(
        "/praxis", action.format(member=world.members[1].id), channel=world.room
    )
    assert outcome.view is None and not outcome.messages
    assert "Only this cohort's facilitators" in outcome.text
    assert await snapshot(world) == before
    assert world.slack.files == {}


@pytest.mark.parametrize(
    "action", ["show Autumn", "pause Autumn", "prompts Autumn", "report chart Autumn"]
)
async def test_a_facilitator_group_member_manages_their_cohort_only(world, action):
    fran = world.fran
    allowed = await fran.command("/praxis", action, channel=world.room)
    assert "Autumn" in allowed.text and "went wrong" not in allowed.text
    other = world.ws.create_channel("spring", members=[world.admin, fran])
    opened = await world.admin.command("/praxis", "create", channel=other)
    await world.admin.submit(opened.view, {"name": "Spring", "channel": other.id})
    refused = await fran.command("/praxis", action.replace("Autumn", "Spring"), channel=other)
    assert "Only this cohort's facilitators" in refused.text


async def test_forged_forms_and_buttons_from_a_member_change_nothing(world):
    """A member can't open these forms, but a crafted submission must fail all the same."""
    opened = await world.admin.command("/praxis", "edit Autumn", channel=world.room)
    member = world.members[0]
    forged = View("V0FORGED01", world.ws.id, member.id, opened.view.body, "h", "V0FORGED01")
    world.slack.views[forged.id] = forged
    before = await snapshot(world)
    answer = await member.submit(forged, {"name": "Taken over", "channel": world.room.id})
    assert answer.errors and await snapshot(world) == before

    await world.admin.command("/praxis", "delete Autumn", channel=world.room)
    (confirm,) = [e for e in world.admin.private_messages() if e.blocks]
    posted = await world.bot.slack.client.chat_postMessage(
        channel=world.room.id, text="copy", blocks=confirm.blocks
    )
    message = world.room.find(posted["ts"])
    await member.click(message, "praxis_delete_confirm")
    assert await snapshot(world) == before
    with pytest.raises(SimError):
        await member.click(message, "no-such-button")


async def test_a_facilitator_cannot_point_a_cohort_at_a_channel_they_are_not_in(world):
    hidden = world.ws.create_channel("announcements", members=[world.admin])
    before = await snapshot(world)
    opened = await world.fran.command("/praxis", "edit Autumn", channel=world.room)
    answer = await world.fran.submit(opened.view, {"channel": hidden.id})
    assert "not in" in answer.errors["channel"]
    public = world.ws.create_channel("open-digest", members=[world.admin, world.fran])
    opened = await world.fran.command("/praxis", "edit Autumn", channel=world.room)
    answer = await world.fran.submit(opened.view, {"digest_channel": public.id})
    assert "private channel" in answer.errors["digest_channel"]
    assert await snapshot(world) == before


async def test_a_facilitator_taken_out_of_the_user_group_loses_the_cohort(world):
    assert "Autumn" in (await world.fran.command("/praxis", "show Autumn", channel=world.room)).text
    await world.ws.set_usergroup_members(world.staff, [])
    refused = await world.fran.command("/praxis", "show Autumn", channel=world.room)
    assert "Only this cohort's facilitators" in refused.text
    calls = len(world.slack.calls_to("usergroups.users.list"))
    await world.ws.set_usergroup_members(world.staff, [world.fran])
    assert "Autumn" in (await world.fran.command("/praxis", "show Autumn", channel=world.room)).text
    assert len(world.slack.calls_to("usergroups.users.list")) == calls  # kept current by events


async def test_the_form_empties_the_digest_channel_and_guards_the_facilitator_group(world):
    private = world.ws.create_channel("staff-room", members=[world.admin, world.fran], private=True)
    opened = await world.fran.command("/praxis", "edit Autumn", channel=world.room)
    assert not (await world.fran.submit(opened.view, {"digest_channel": private.id})).errors
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT digest_channel_id FROM cohorts") is not None

    opened = await world.fran.command("/praxis", "edit Autumn", channel=world.room)
    before = await snapshot(world)
    locked_out = await world.fran.submit(opened.view, {"facilitators": ""})
    assert "unable to manage" in locked_out.errors["facilitators"]
    assert await snapshot(world) == before

    emptied = await world.fran.submit(opened.view, {"digest_channel": ""})
    assert not emptied.errors
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT digest_channel_id FROM cohorts") is None
        assert await tx.fetch_value("SELECT facilitator_role_id FROM cohorts") is not None


async def test_a_member_cannot_use_a_facilitators_home_tab_buttons(world):
    """The report buttons only show on facilitators' Home tabs; a forged one is refused."""
    home = await world.admin.open_home()
    member = world.members[0]
    forged = View("V0FORGED02", world.ws.id, member.id, home.body, "h", "V0FORGED02")
    world.slack.views[forged.id] = forged
    before = await snapshot(world)
    for action in ("praxis_report_round", "praxis_report_chart"):
        await member.click(forged, action)
    answers = [m.text for m in member.dms()]
    assert len(answers) == 2 and all("Only this cohort's facilitators" in a for a in answers)
    assert await snapshot(world) == before


async def test_only_the_cohorts_members_write_reflections_and_feedback(world):
    """The Write reflection button, and forms crafted for someone else's round or as a
    facilitator: refused kindly, nothing posted, nothing stored."""
    await world.fran.command("/praxis", "post Autumn", channel=world.room)
    (prompt,) = prompts(world)
    ada = world.members[0]
    reflection = await ada.reply(prompt, "Ada's reflection, there to be answered.")
    before, posted = await snapshot(world), len(world.slack.posted)
    for person in (world.fran, world.admin, world.outsider):
        refused = await person.click(prompt, "praxis_reflect")
        assert refused.view is None and "written by its members" in refused.text

    form = (await ada.click(prompt, "praxis_reflect")).view
    feedback = (await world.members[1].shortcut(reflection, "praxis_feedback")).view
    for index, person in enumerate((world.fran, world.admin, world.outsider)):
        for body, field in ((form.body, "section_0"), (feedback.body, "feedback_0")):
            view_id = f"V0FORGED{index}{field[0]}"
            forged = View(view_id, world.ws.id, person.id, body, "h", view_id)
            world.slack.views[forged.id] = forged
            answer = await person.submit(forged, {field: "Posted in a member's place?"})
            assert "written by its members" in answer.errors[field]
    assert await snapshot(world) == before and len(world.slack.posted) == posted

    sam = world.ws.add_user("sam")
    spring = world.ws.create_channel("spring", members=[world.admin, sam])
    opened = await world.admin.command("/praxis", "create", channel=spring)
    await world.admin.submit(opened.view, {"name": "Spring", "channel": spring.id})
    await world.admin.command("/praxis", "post Spring", channel=spring)
    (other,) = [m for m in world.ws.messages(spring) if m.metadata]
    theirs = (await sam.click(other, "praxis_reflect")).view
    before, posted = await snapshot(world), len(world.slack.posted)
    forged = View("V0FORGEDSP", world.ws.id, ada.id, theirs.body, "h", "V0FORGEDSP")
    world.slack.views[forged.id] = forged
    answer = await ada.submit(forged, {"section_0": "Into another cohort's thread?"})
    assert "Spring" in answer.errors["section_0"]
    assert await snapshot(world) == before and len(world.slack.posted) == posted


async def test_the_cohort_form_turns_private_reflections_off_and_on(world):
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT private_reflections FROM cohorts") == 1
    opened = await world.fran.command("/praxis", "edit Autumn", channel=world.room)
    assert not (await world.fran.submit(opened.view, {"private_reflections": []})).errors
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT private_reflections FROM cohorts") == 0
    opened = await world.fran.command("/praxis", "edit Autumn", channel=world.room)
    assert not (await world.fran.submit(opened.view, {})).errors  # the form shows it off
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT private_reflections FROM cohorts") == 0
    opened = await world.fran.command("/praxis", "edit Autumn", channel=world.room)
    assert not (await world.fran.submit(opened.view, {"private_reflections": ["on"]})).errors
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT private_reflections FROM cohorts") == 1
