"""The guides and the README say what the code does: commands, options, limits, permissions.

Each check reads the prose as a reader would and compares it with the running bot's
command tree or the constants the code enforces, so a change on either side that leaves
the other behind fails here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import discord
import pytest

from bot.core import limits
from bot.core.cohorts import OPTIONS, WEEKDAYS
from bot.core.errors import InvalidInput
from bot.discord.checks import POST_PERMISSIONS
from cogs.reflections import FIELD_LIMIT
from tests.test_permission_audit import leaves

DOCS = Path(__file__).resolve().parents[1]
README = (DOCS / "README.md").read_text(encoding="utf-8")
FACILITATOR = (DOCS / "docs" / "FACILITATOR_GUIDE.md").read_text(encoding="utf-8")
MEMBER = (DOCS / "docs" / "MEMBER_GUIDE.md").read_text(encoding="utf-8")
GUIDES = {"README.md": README, "FACILITATOR_GUIDE.md": FACILITATOR, "MEMBER_GUIDE.md": MEMBER}
MENTION = re.compile(r"`/([^`]+)`")
NUMBER = re.compile(r"\d+(?:,\d{3})*")


def flat(text: str) -> str:
    return " ".join(text.split())


def section(text: str, heading: str) -> str:
    """The body under a Markdown heading, up to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


def table(text: str) -> list[list[str]]:
    """The rows of the first Markdown table in ``text``, header and rule left out."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def between(text: str, start: str, end: str) -> str:
    body = flat(text)
    assert start in body, f"the docs no longer say {start!r}: update this test"
    return body.split(start, 1)[1].split(end, 1)[0]


# ----------------------------------------------------------------------------- commands


def words_of(command) -> set[str]:
    """Parameter names and choice values a mention may follow a command with."""
    found = set()
    for parameter in getattr(command, "parameters", []):
        found.add(parameter.name)
        found.update(choice.name for choice in parameter.choices)
    return found


def check_mention(mention: str, commands: dict) -> str:
    """The command a mention such as ``/cohort create name channel [facilitators] …`` names;
    fails if it names no command, or an argument the command doesn't take."""
    tokens = [t.strip("[]") for t in mention.split() if re.fullmatch(r"\[?[a-z_]+\]?", t)]
    name = tokens[0]
    if name not in commands:
        assert any(leaf.startswith(name + " ") for leaf in commands), f"/{mention}: no such command"
        if len(tokens) == 1:
            return name  # a whole group, e.g. "the /cohort commands"
        name = f"{tokens[0]} {tokens[1]}"
        assert name in commands, f"/{mention}: no such subcommand"
        rest = tokens[2:]
    else:
        rest = tokens[1:]
    unknown = set(rest) - words_of(commands[name])
    assert not unknown, f"/{mention}: /{name} takes no {sorted(unknown)}"
    return name


#: Slack's own commands, which the docs tell people to type in Slack.
SLACK_BUILT_INS = {"invite"}


@cache
def slack_commands():
    """``/praxis``'s handler tables as a running Slack runtime has them (feature modules
    add their subcommands there, so the table is read after the runtime is built)."""
    from bot.config import Settings
    from bot.slack.runtime import SlackRuntime

    async def nothing() -> None:
        return None

    settings = Settings(database_path=Path("unused.db"), scheduler_enabled=False,
                        slack_bot_token="xoxb-1-2-docs")  # fmt: skip
    runtime = SlackRuntime(settings, None, None, tick_now=nothing, schedule_changed=nothing)
    return runtime.commands


def slack_subcommands() -> set[str]:
    return set(slack_commands().handlers)


def check_slack_mention(mention: str) -> None:
    words = mention.split()
    if words[0] in SLACK_BUILT_INS:
        return
    assert words[0] == "praxis", f"/{mention}: no such Slack command"
    if len(words) > 1:
        assert words[1] in slack_subcommands(), f"/{mention}: /praxis has no {words[1]!r}"
    if len(words) > 2 and words[1] == "me":
        me = set(slack_commands().me_handlers)
        assert words[2] in me, f"/{mention}: /praxis me has no {words[2]!r}"


def test_slack_mentions_are_checked_too():
    check_slack_mention("praxis show COHORT")
    check_slack_mention("praxis report chart COHORT")
    check_slack_mention("praxis me forget")
    for wrong in ("praxis rename", "slack", "praxis me rename"):
        with pytest.raises(AssertionError):
            check_slack_mention(wrong)


async def test_every_command_the_docs_name_exists_and_every_command_is_documented(world):
    commands = leaves(world.bot)
    documented = set()
    for doc, text in GUIDES.items():
        for mention in MENTION.findall(text):
            if mention.split()[0] in {"praxis", *SLACK_BUILT_INS}:
                check_slack_mention(mention)
                continue
            named = check_mention(mention, commands)
            if doc != "README.md":
                documented.add(named)
    for name, command in commands.items():
        if isinstance(command, discord.app_commands.ContextMenu):
            assert f"**{name}**" in FACILITATOR + MEMBER, f"{name} is not documented"
        else:
            assert name in documented, f"/{name} is in neither guide"


def test_a_mention_of_a_missing_command_or_argument_is_caught():
    class Fake:
        parameters = ()

    commands = {"cohort create": Fake(), "reflect": Fake()}
    assert check_mention("cohort create", commands) == "cohort create"
    for wrong in ("cohort rename name", "cohort create colour", "reflections", "reflect now"):
        with pytest.raises(AssertionError):
            check_mention(wrong, commands)


# ------------------------------------------------------------------------------ options


def accepted_range(key: str) -> tuple[int, int]:
    """The whole numbers a cohort option accepts, found by asking its parser."""
    accepted = []
    for value in range(-1, 5001):
        try:
            OPTIONS[key].parse(value)
        except InvalidInput:
            continue
        accepted.append(value)
    return min(accepted), max(accepted)


def shown_default(key: str) -> str:
    """An option's default as the guide writes it."""
    default = OPTIONS[key].default
    if key == "weekday":
        return WEEKDAYS[default].title()
    if key in ("last_call", "anonymous_feedback"):  # checkboxes on Slack
        return "on" if default else "off"
    if default is None:  # retention_days: stored as "keep", given as 0
        return "0"
    return str(default)


def test_the_cohort_options_table_matches_the_code(world):
    create = leaves(world.bot)["cohort create"]
    edit = leaves(world.bot)["cohort edit"]
    rows = table(section(FACILITATOR, "Setting up: `/cohort create`"))
    seen = set()
    for names_cell, meaning, default_cell in rows:
        names = re.findall(r"`([a-z_]+)`", names_cell)
        defaults = [d.strip() for d in default_cell.split("(")[0].split(" / ")]
        ranges = re.findall(r"\((\d+)–(\d+)", default_cell)
        for i, name in enumerate(names):
            seen.add(name)
            target = edit if "`/cohort edit` only" in meaning else create
            assert name in words_of(target), f"{name} is not an option of /{target.qualified_name}"
            if name not in OPTIONS:
                continue
            written = defaults[i] if len(defaults) == len(names) else defaults[0]
            assert written.strip("`").split(" ")[0] == shown_default(name), name
            if ranges:
                assert tuple(map(int, ranges[0])) == accepted_range(name), name
    assert set(OPTIONS) <= seen, f"options missing from the guide: {set(OPTIONS) - seen}"


# ------------------------------------------------------------------------------- limits


def numbers(cell: str) -> list[int]:
    cell = cell.replace("UTF-8", "")
    return [int(n.replace(",", "")) for n in NUMBER.findall(cell)]


def check_limits(rows: list[list[str]], expected: dict[str, list[int]]) -> None:
    found = {label: numbers(cell) for label, cell in rows}
    assert set(found) == set(expected), "a limits row was added or renamed: update this test"
    for label, values in expected.items():
        assert found[label] == values, f"{label}: the docs say {found[label]}, the code {values}"


def test_the_readme_limits_table_matches_the_code():
    every, window = accepted_range("every_weeks"), accepted_range("reflect_hours")
    assert accepted_range("feedback_hours") == window
    nudges = accepted_range("reflect_nudge_hours")
    assert accepted_range("feedback_nudge_hours") == nudges
    check_limits(
        table(section(README, "Limits")),
        {
            "cohorts per server": [limits.MAX_COHORTS_PER_GUILD],
            "cohort name": [limits.MAX_COHORT_NAME_CHARS],
            "prompts per cohort": [limits.MAX_PROMPTS_PER_COHORT],
            "prompt text / title": [limits.MAX_PROMPT_TEXT_CHARS, limits.MAX_PROMPT_TITLE_CHARS],
            "reflection headings per prompt": [
                limits.MAX_STRUCTURE_SECTIONS,
                limits.MAX_SECTION_LABEL_CHARS,
            ],
            "prompt import file": [limits.MAX_IMPORT_BYTES // 1024],
            "rounds": [*every, window[0], window[1] // 168, window[1]],
            "peers each member responds to (`feedback_required`)": [
                *accepted_range("feedback_required")
            ],
            "minimum words for a reflection / for feedback": [*accepted_range("min_words")],
            "nudge lead times (`reflect_nudge_hours`, `feedback_nudge_hours`)": [*nudges, 0],
            "text retention (`retention_days`)": [*accepted_range("retention_days"), 0],
        },
    )


def test_the_guide_limits_table_matches_the_code():
    window = accepted_range("reflect_hours")
    check_limits(
        table(section(FACILITATOR, "Limits")),
        {
            "cohorts per server": [limits.MAX_COHORTS_PER_GUILD],
            "cohort name": [limits.MAX_COHORT_NAME_CHARS],
            "rounds": [*accepted_range("every_weeks")],
            "reflection and feedback windows": [*window, window[1] // 168],
            "peers to respond to": [*accepted_range("feedback_required")],
            "minimum words for a reflection / for feedback": [
                *accepted_range("min_words"),
                *accepted_range("feedback_min_words"),
            ],
            "nudge lead times": [*accepted_range("reflect_nudge_hours"), 0],
            "text retention": [*accepted_range("retention_days"), 0],
            "reflection form": [FIELD_LIMIT],
            "prompts per cohort": [limits.MAX_PROMPTS_PER_COHORT],
            "prompt title / text": [limits.MAX_PROMPT_TITLE_CHARS, limits.MAX_PROMPT_TEXT_CHARS],
            "headings per prompt": [
                1,
                limits.MAX_STRUCTURE_SECTIONS,
                limits.MAX_SECTION_LABEL_CHARS,
            ],
            "import file": [limits.MAX_IMPORT_BYTES // 1024],
        },
    )


# -------------------------------------------------------------------------- permissions

#: Discord's settings screens say "View Channels"; discord.py says ``view_channel``.
UI_NAMES = {"view_channels": "view_channel"}


def permission_names(listing: str) -> set[str]:
    listing = re.sub(r"\([^)]*\)", "", listing)
    names = set()
    for part in re.split(r",\s*|\s+and\s+", listing):
        name = "_".join(part.strip(" .").lower().split())
        name = UI_NAMES.get(name, name)
        assert name in discord.Permissions.VALID_FLAGS, f"{part!r} is no Discord permission"
        names.add(name)
    return names


def test_the_invite_permissions_in_the_readme_are_what_praxis_checks():
    """Rounds need POST_PERMISSIONS in the cohort channel; digests also attach a chart."""
    listing = between(README, "bot permissions:", ". Open the generated URL")
    assert permission_names(listing) == {*POST_PERMISSIONS, "attach_files"}


def test_the_troubleshooting_permissions_are_what_cohort_create_checks():
    listing = between(FACILITATOR, "Praxis's role needs, in that channel:", ". Check the")
    assert permission_names(listing) == set(POST_PERMISSIONS)


# ------------------------------------------------------------------------------- deploy


def unit_settings(name: str = "praxis.service") -> dict[str, str]:
    text = (DOCS / "deploy" / name).read_text(encoding="utf-8")
    found = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def test_the_service_unit_runs_praxis_hardened_and_lets_it_stop_cleanly():
    from bot.app import SHUTDOWN_GRACE

    unit = unit_settings()
    assert unit["ExecStart"].endswith("/praxis run")
    assert unit["Restart"] == "on-failure"
    assert unit["RestartPreventExitStatus"] == "2"  # praxis run's "fix the configuration"
    assert unit["KillSignal"] == "SIGTERM"
    assert int(unit["TimeoutStopSec"].removesuffix("s")) > SHUTDOWN_GRACE + 5
    assert unit["ProtectSystem"] == "strict"
    assert unit["NoNewPrivileges"] == "yes"
    assert unit["User"] == "praxis"
    # The database path the deployment guide sets must be writable under ProtectSystem.
    database = re.search(r"DATABASE_PATH=(\S+)", (DOCS / "docs" / "DEPLOYMENT.md").read_text())
    assert database and Path(database.group(1)).parent == Path(unit["ReadWritePaths"])
    assert unit["EnvironmentFile"] == "/etc/praxis/praxis.env"


def test_every_slack_subcommand_is_in_a_guide():
    """The guides name every ``/praxis`` subcommand (and ``/praxis me`` one) Slack answers."""
    guides = FACILITATOR + MEMBER
    commands = slack_commands()
    for name in commands.handlers:
        assert f"`/praxis {name}" in guides, f"/praxis {name} is in neither guide"
    for name in commands.me_handlers:
        assert f"`/praxis me {name}" in guides, f"/praxis me {name} is in neither guide"


# ------------------------------------------------------------------- several processes

DEPLOYMENT = (DOCS / "docs" / "DEPLOYMENT.md").read_text(encoding="utf-8")
ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b(?!\.md)")
#: Read by bot/config.py for several processes (shards and claims); named in the guide.
SHARDING_VARS = {"SHARD_COUNT", "SHARD_IDS", "LEASE_SECONDS"}


def settings_read() -> set[str]:
    """The environment variables ``Settings.from_env`` reads, from its source."""
    import inspect

    from bot.config import Settings

    return set(
        re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', inspect.getsource(Settings.from_env))
    )


def unknown_settings(text: str) -> set[str]:
    return set(ENV_NAME.findall(text)) - settings_read() - SHARDING_VARS


def test_every_setting_the_guides_name_is_one_praxis_reads():
    assert {"DATABASE_URL", "DISCORD_TOKEN", "SLACK_APP_TOKEN"} <= settings_read()
    for name, text in (("README.md", README), ("DEPLOYMENT.md", DEPLOYMENT)):
        assert not unknown_settings(text), f"{name} names settings Praxis doesn't read"
    assert unknown_settings("set DATABASE_URLS=… and `SHARD_ID`, see MEMBER_GUIDE.md") == {
        "DATABASE_URLS",
        "SHARD_ID",
    }


def test_the_template_unit_is_the_service_unit_with_shards_from_the_instance():
    one = unit_settings()
    template = unit_settings("praxis@.service")
    assert template.pop("Environment") == "SHARD_IDS=%I"
    assert template.pop("Description") == one.pop("Description") + ", shards %I"
    assert template == one


def test_the_launcher_as_the_guide_describes_it():
    from bot.launcher import STOP_TIMEOUT, Backoff, shard_shares
    from bot.storage.postgres import POOL_SIZE

    part = flat(section(DEPLOYMENT, "Or the launcher"))
    split = re.search(r"(\d+) processes of (\d+) shards: ([^)]*)\)", part)
    assert split, "the guide no longer shows a split: update this test"
    shown = [tuple(map(int, s.split(","))) for s in re.findall(r"`([\d,]+)`", split.group(3))]
    assert shown == shard_shares(int(split.group(1)), int(split.group(2)))
    backoff = Backoff()
    assert f"restarted after {backoff.first:g} s, then 2, 4… up to {backoff.cap:g} s" in part
    assert f"still running after {STOP_TIMEOUT:g} s" in part
    stop = re.search(r"TimeoutStopSec=(\d+)s", section(DEPLOYMENT, "Or the launcher"))
    assert stop and int(stop.group(1)) > STOP_TIMEOUT
    assert "KillMode=mixed" in part and "ExecStart=/opt/praxis/.venv/bin/praxis launch" in part
    connections = flat(section(DEPLOYMENT, "PostgreSQL for several processes"))
    assert f"every process's pool of {POOL_SIZE} connections" in connections


def test_the_launch_options_the_guides_name_exist(capsys):
    from bot.cli import main

    with pytest.raises(SystemExit):
        main(["launch", "--help"])
    options = set(re.findall(r"--[a-z-]+", capsys.readouterr().out))
    named = set()
    for text in (README, DEPLOYMENT):
        for flags in re.findall(r"praxis launch((?: \[?--[a-z-]+ [A-Z]+\]?)+)", flat(text)):
            named.update(re.findall(r"--[a-z-]+", flags))
    assert {"--processes", "--shard-count", "--start-gap"} <= named <= options


def test_the_rating_question_pace_is_what_the_code_uses():
    """ARCHITECTURE.md states each platform's pace for "was it helpful?" questions."""
    from bot.discord import ratings as discord_ratings
    from bot.slack import ratings as slack_ratings
    from cogs import reflections as cog

    text = " ".join((DOCS / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8").split())
    assert f"Discord {discord_ratings.QUESTIONS_PER_SECOND:g} a second" in text
    assert f"like backfill's {cog.BACKFILL_RATE:g})" in text
    assert f"Slack {slack_ratings.QUESTIONS_PER_SECOND:g} (each" in text
    assert discord_ratings.QUESTIONS_BURST == slack_ratings.QUESTIONS_BURST
    assert f"The first {discord_ratings.QUESTIONS_BURST} go at once" in text
