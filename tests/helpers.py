"""Test helpers: a ready-made server for a cohort, and small assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import discord
from simcord import assert_error

from bot.app import PraxisBot, create_bot
from bot.config import Settings
from bot.core.errors import PraxisError


@dataclass
class World:
    """A guild with a cohort channel, roles, an admin, a facilitator and learners."""

    env: object
    guild: object
    channel: object
    learners: object
    facilitators: object
    admin: object
    facilitator: object
    members: list = field(default_factory=list)
    outsider: object = None

    @property
    def bot(self) -> PraxisBot:
        return self.env.bot

    @property
    def db(self):
        return self.env.bot.db


def build_world(
    env, n_members: int = 4, guild_name: str = "Practice School", shard_id: int | None = None
) -> World:
    guild = env.create_guild(guild_name, shard_id=shard_id)
    channel = guild.create_text_channel("reflections")
    learners = guild.create_role("Learners")
    facilitators = guild.create_role("Facilitators")
    managers = guild.create_role("Staff", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(env.create_user("admin"), roles=[managers])
    facilitator = guild.add_member(env.create_user("fran"), roles=[facilitators])
    names = ["ada", "ben", "cleo", "dev", "eli", "fay", "gus", "hana"]
    members = [
        guild.add_member(env.create_user(names[i % len(names)] + str(i)), roles=[learners])
        for i in range(n_members)
    ]
    outsider = guild.add_member(env.create_user("visitor"))
    return World(env, guild, channel, learners, facilitators, admin, facilitator, members, outsider)


async def create_cohort(world: World, name: str = "Autumn", **options):
    options.setdefault("channel", world.channel)
    options.setdefault("members", world.learners)
    options.setdefault("facilitators", world.facilitators)
    return await world.admin.slash(world.channel, "cohort create", name=name, **options)


def private_channel(world: World, name: str = "facilitators", readers=(), overwrites=None):
    """A channel @everyone can't see, where Praxis, the admin, the facilitators and
    ``readers`` (roles or members) can view and send messages: a facilitators' room.
    ``overwrites`` (target → PermissionOverwrite) replace those for their targets."""
    can_post = discord.PermissionOverwrite(view_channel=True, send_messages=True)
    given = {world.guild.default_role: discord.PermissionOverwrite(view_channel=False)}
    for who in (world.guild.me, world.admin, world.facilitators, *readers):
        given[who] = can_post
    given.update(overwrites or {})
    return world.guild.create_text_channel(name, overwrites=given)


async def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table: compare before and after to show nothing was stored."""
    tables = await db.table_names()
    return {t: [tuple(r) for r in await db.fetch_all(f"SELECT * FROM {t}")] for t in tables}


async def refuse_writes(db, refuse: bool = True) -> None:
    """Make the database refuse every write (a read-only file or server), or take them again.

    SQLite: ``PRAGMA query_only``. PostgreSQL: the database's default becomes read-only
    transactions, and the pool's connections are replaced so each new one starts so.
    """
    if db.dialect == "sqlite":
        await db.fetch_value(f"PRAGMA query_only = {int(refuse)}")
        return
    async with db._pool.acquire() as session:  # this session may itself be read-only by now
        await session.execute("SET default_transaction_read_only = off")
        name = await session.fetchval("SELECT current_database()")
        await session.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if refuse else "off"}'  # noqa: E501
        )
    await db._pool.expire_connections()


async def outage_ends_with_the_process(db) -> None:
    """Just before a simulated crash during :func:`refuse_writes`: SQLite's refusal is the
    old connection's, so the new process writes anyway; a PostgreSQL server's is lifted
    here, as a server coming back while the process restarts."""
    if db.dialect != "sqlite":
        await refuse_writes(db, False)


async def show_command_to(world: World, command: str, role) -> None:
    """What a server admin does under Integrations: show a command to a role."""
    synced = await world.bot.tree.fetch_commands()
    found = next(c for c in synced if c.name == command)
    world.guild.set_command_permissions(found.id, {role: True})


def refused(env, result, contains: str) -> None:
    """The bot answered privately with a kind explanation, and the error was a known one."""
    assert result.ephemeral, "refusals must be private"
    text = result.response.content if result.response else ""
    text += "".join(m.content for m in result.followups)
    assert contains in text, f"expected {contains!r} in {text!r}"
    assert_error(env, PraxisError)


async def restart(env, settings: Settings, bots: list[PraxisBot]) -> PraxisBot:
    """Simulate a process restart: close the old bot's DB, attach a freshly built bot."""
    old = env.bot
    new = create_bot(settings)
    bots.append(new)
    await env.restart_bot(new)
    if old._db is not None:
        await old._db.close()
        old._db = None
    return new


def at(env, **delta) -> datetime:
    return env.now() + timedelta(**delta)


async def advance_to(env, moment: datetime) -> datetime:
    """Move SimCord's clock forward to ``moment`` (messages get timestamps from it)."""
    seconds = (moment - env.now()).total_seconds()
    if seconds > 0:
        await env.advance_time(seconds)
    return env.now()


async def tick_at(world: World, moment: datetime):
    """Advance the simulated clock to ``moment`` and run everything due then."""
    return await world.bot.tick(await advance_to(world.env, moment))


def bot_posts(world: World) -> list[discord.Message]:
    """Messages the bot posted in the cohort channel (not in threads), oldest first."""
    me = world.bot.user.id
    return [
        m
        for m in world.channel.history()
        if m.author.id == me and m.type == discord.MessageType.default
    ]


def fail_nth_post(env, channel_id: int, n: int, status: int = 500) -> None:
    """Make the ``n``-th message posted to a channel from now on fail once with ``status``.

    ``env.inject_error`` fails the *next* matching call, so on its own it can't let the
    first parts of a long list through and fail a later one. SimCord logs each call in
    ``env.http_requests`` just before it checks for faults, so the fault is added the
    moment the ``n``-th post is logged.
    """
    path = f"/channels/{channel_id}/messages"
    seen = 0

    class FailingLog(list):
        def append(self, entry) -> None:
            nonlocal seen
            super().append(entry)
            if entry.method == "POST" and entry.path == path:
                seen += 1
                if seen == n:
                    env.inject_error("POST", path, status=status)

    env.backend.http_requests = FailingLog(env.backend.http_requests)
