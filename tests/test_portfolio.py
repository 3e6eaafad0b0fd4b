"""A member's CPD portfolio: ``/me portfolio`` (Discord) and ``/praxis me portfolio`` (Slack)
give them, privately, a printable HTML page of their own rounds: prompt, reflection, dates,
word counts and the feedback they received — and nobody else's reflection."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest_asyncio

from slacksim import SlackSim
from tests.helpers import create_cohort, tick_at
from tests.slack_helpers import assert_no_errors_logged, build_slack_world, prompts, start_praxis
from tests.slack_helpers import create_cohort as create_slack_cohort

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
HOSTILE = "I noticed <script>alert('x')</script> & my own <b>defensiveness</b> today."
LONG_WORD = "supercalifragilistic" * 12  # one 240-letter "word": it must wrap, not be cut
OTHERS = "Zoë's private reflection about boundaries with her supervisor."
FEEDBACK = "Thank you, Sakura — the way you named the defensiveness helped me."


class Page(HTMLParser):
    """The parts of a portfolio a test looks at, read as a browser would read the tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.charset = ""
        self.tags: list[tuple[str, dict]] = []
        self.rounds: dict[str, str] = {}  # section id -> its visible text
        self.style = ""
        self.text = ""
        self._round: str | None = None
        self._depth = 0
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag == "meta" and "charset" in attrs:
            self.charset = attrs["charset"]
        self._in_style = tag == "style"
        if tag == "section" and "round" in attrs.get("class", ""):
            self._round, self._depth = attrs["id"], 0
            self.rounds[self._round] = ""
        elif self._round and tag == "section":
            self._depth += 1

    def handle_endtag(self, tag):
        self._in_style = False if tag == "style" else self._in_style
        if tag == "section" and self._round:
            if self._depth == 0:
                self._round = None
            else:
                self._depth -= 1

    def handle_data(self, data):
        if self._in_style:
            self.style += data
            return
        self.text += data
        if self._round:
            self.rounds[self._round] += data


def assert_well_made(page: Page) -> None:
    """UTF-8, a language, no script, nothing loaded from elsewhere, nothing cut off."""
    assert page.lang == "en" and page.charset.lower() == "utf-8"
    assert "script" not in {tag for tag, _ in page.tags}
    assert not [a for _, a in page.tags if "src" in a or a.get("rel") == "stylesheet"]
    assert not [a for _, a in page.tags if "style" in a], "all styling in the stylesheet"
    assert "overflow-wrap: anywhere" in page.style
    assert "@media print" in page.style and "break-before: page" in page.style
    assert not re.search(r"overflow[-xy]*\s*:\s*(hidden|clip)", page.style)
    assert not re.search(r"(?<![-\w])(max-)?height\s*:", page.style), "no fixed heights"
    assert "text-overflow" not in page.style and "@import" not in page.style
    assert "url(" not in page.style, "no external fonts or images"


# ------------------------------------------------------------------------------ Discord


async def two_rounds(world):
    """Sakura reflects (hostile markup, a long word) and gets feedback from Zoë in round 1;
    in round 2 she posts and then deletes her reflection."""
    guild = world.guild
    sakura = guild.add_member(
        world.env.create_user("sakura"), roles=[world.learners], nick="田中さくら"
    )
    zoe = guild.add_member(world.env.create_user("zoe"), roles=[world.learners], nick="Zoë Åberg")
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [first] = world.channel.threads
    mine = await sakura.send(first, f"{HOSTILE}\n\nSecond paragraph: {LONG_WORD}")
    await zoe.send(first, OTHERS)
    await zoe.send(first, FEEDBACK, reply_to=mine)
    await tick_at(world, FIRST_SLOT + timedelta(days=7))
    second = next(t for t in world.channel.threads if t.id != first.id)
    gone = await sakura.send(second, "A reflection I later took back.")
    await sakura.delete(gone)
    return sakura, zoe


async def portfolio_of(world, member) -> str:
    result = await member.slash(world.channel, "me portfolio")
    assert result.ephemeral
    [attachment] = result.response.attachments
    assert attachment.filename == "praxis-portfolio.html"
    return (await attachment.read()).decode("utf-8")


async def test_me_portfolio_holds_my_rounds_reflection_and_feedback_privately(world):
    sakura, _ = await two_rounds(world)
    html = await portfolio_of(world, sakura)
    page = Page(html)
    assert_well_made(page)

    assert len(page.rounds) == 2, "every round of the cohort is there"
    first, second = page.rounds.values()
    assert HOSTILE in first, "her text, exactly, as text"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert LONG_WORD in first and "on time" in first
    assert "Zoë Åberg" in first and FEEDBACK in first, "feedback with the giver's name"
    assert "Removed: the message was deleted." in second
    assert "A reflection I later took back." not in html
    assert "田中さくら" in page.text and "Practice School" in page.text
    assert OTHERS not in html, "never another member's reflection"
    assert "Round 1" in first and "Opened Mon 5 Jan 2026, 09:00" in first
    assert "1 written" in page.text, "the deleted reflection is not counted as written"


async def test_a_forgotten_member_gets_a_portfolio_with_none_of_their_writing(world):
    sakura, _ = await two_rounds(world)
    asked = await sakura.slash(world.channel, "me forget")
    await sakura.click(asked.response, label="Delete my data")
    html = await portfolio_of(world, sakura)
    assert HOSTILE.split("<")[0] not in html and FEEDBACK not in html
    assert "Former member" not in html and "Zoë" not in html
    assert "0 written · 0 words" in Page(html).text


async def test_someone_in_no_cohort_gets_an_empty_portfolio(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    page = Page(await portfolio_of(world, world.outsider))
    assert page.rounds == {} and "There are no rounds to show yet" in page.text


# ------------------------------------------------------------------------------- Slack

ADA_TEXT = "My client <i>waited</i> & so did I; the silence was the work."
BEN_TEXT = "Ben's own reflection, which is not Ada's to keep."


@pytest_asyncio.fixture
async def slack_world(tmp_path, caplog):
    async with SlackSim() as slack:
        world = build_slack_world(slack)
        slack.users[world.members[1].id].name = "Benoît 李"  # the display name Slack shows
        await start_praxis(world, tmp_path / "praxis.db")
        await create_slack_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
        slack.set_time(FIRST_SLOT)
        await world.bot.tick(slack.now())
        yield world
        for bot in world.bots:
            await bot.close()
    assert_no_errors_logged(caplog)


async def test_praxis_me_portfolio_arrives_as_a_file_in_my_dm(slack_world):
    world = slack_world
    ada, ben, *_ = world.members
    (prompt,) = prompts(world)
    await ada.reply(prompt, ADA_TEXT)
    await ben.reply(prompt, BEN_TEXT)
    await ben.reply(prompt, f"<@{ada.id}> your silence stayed with me — merci.")

    outcome = await ada.command("/praxis", "me portfolio", channel=world.room)
    assert "direct message" in outcome.text
    im = world.ws.im_with(ada.id)
    [upload] = [f for f in world.slack.files.values() if im and im.id in f.shared_to]
    assert upload.filename == "praxis-portfolio.html"
    html = upload.content.decode("utf-8")
    page = Page(html)
    assert_well_made(page)
    [only] = page.rounds.values()
    assert ADA_TEXT in only and "<i>waited</i>" not in html
    assert "Benoît 李" in only and "your silence stayed with me — merci." in only
    assert "<@" not in only, "the mention that addressed her is not shown as code"
    assert BEN_TEXT not in html
    bens_im = world.ws.im_with(ben.id)
    assert not [f for f in world.slack.files.values() if bens_im and bens_im.id in f.shared_to]
