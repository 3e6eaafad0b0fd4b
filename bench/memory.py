"""Resident memory with 50 servers × 200 members, with Praxis's intents and caches.

The bot is the real one (``create_bot``, every cog loaded, ``bot.app.intents_for``: members
and message content on, presences off) with discord.py's default member cache
(``MemberCacheFlags.from_intents``) and no message cache (``max_messages=None``). Each server's
``GUILD_CREATE`` is JSON like Discord's: 200 members, each with a cohort role (some with a
nickname or a second role; users with ``global_name`` and avatar hashes), 10 cohorts with
their channel and open round thread, a facilitator role and a server's usual other roles,
categories, text and voice channels, threads and emojis. Payloads are decoded and parsed
one at a time (``ConnectionState._add_guild_from_data``) and dropped, as on the gateway.

Readings, each after ``gc.collect()``: resident set size (``VmRSS`` in /proc/self/status)
and, in a second pass, tracemalloc's traced total, for these steps:

1. the bot built, cogs loaded, no servers (the baseline);
2. the servers loaded (bytes per member = the whole step / members);
3. Praxis's thread → round cache (``bot.contexts``) holding every open round thread;
4. ``--messages`` round-thread messages parsed: Praxis keeps no message cache, so this
   step should cost (almost) nothing.

The traced pass also loads the servers without members, and with
``MemberCacheFlags.none()``, to show what the member cache alone costs. RSS figures come
from a fresh interpreter, so nothing freed earlier is reused by the measured steps.

    python -m bench.memory [--guilds 50] [--members 200] [--cohorts 10] [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import linecache
import tempfile
import time
import tracemalloc
from pathlib import Path

import discord

from bench.child import run_python
from bench.ingest import START, WORDS, snowflake, user
from bench.startup import NOW, TIMEZONES, CohortSpec, StubRest, build_database
from bot.app import create_bot, intents_for
from bot.config import Settings

BASE = 2 * 10**17  # guilds, roles, channels, threads: BASE + guild * 100,000 + kind + i
USERS = 4 * 10**17
ROLE, CHANNEL, THREAD, EMOJI = 10_000, 20_000, 30_000, 40_000
OTHER_ROLES = ("Admin", "Moderator", "Alumni", "Guest", "Announcements", "Events",
               "Blue", "Green", "Praxis")  # fmt: skip
TEXT_CHANNELS = ("welcome", "rules", "announcements", "general", "introductions",
                 "resources", "off-topic", "help")  # fmt: skip


def gid(guild: int) -> int:
    return BASE + guild * 100_000


def member_uid(guild: int, member: int) -> int:
    return USERS + guild * 10_000 + member


def cohort_ids(guild: int, cohort: int) -> tuple[int, int, int]:
    """(member role, channel, open round thread) of a server's cohort."""
    base = gid(guild)
    return base + ROLE + 100 + cohort, base + CHANNEL + 100 + cohort, base + THREAD + cohort


def facilitator_role(guild: int) -> int:
    return gid(guild) + ROLE + 1


def specs(guilds: int, members: int, cohorts: int) -> list[CohortSpec]:
    """Member ``m`` of a server is in cohort ``m % cohorts``."""
    found = []
    for g in range(guilds):
        for c in range(cohorts):
            role_id, channel_id, thread_id = cohort_ids(g, c)
            found.append(
                CohortSpec(
                    guild_id=gid(g), role_id=role_id, channel_id=channel_id,
                    thread_id=thread_id,
                    members=tuple(member_uid(g, m) for m in range(c, members, cohorts)),
                    timezone=TIMEZONES[(g * cohorts + c) % len(TIMEZONES)], post_time="09:00",
                )
            )  # fmt: skip
    return found


def _hash(n: int) -> str:
    return f"{(n * 2654435761) % 16**32:032x}"


def realistic_user(uid: int, n: int) -> dict:
    """bench.ingest's user, with what Discord sends for most people."""
    data = user(uid, f"member.{n}_{uid % 997}")
    data.update(
        global_name=None if n % 10 == 0 else f"Member {n} {_hash(n)[:6]}",
        avatar=None if n % 5 == 0 else ("a_" if n % 17 == 0 else "") + _hash(uid),
        public_flags=0 if n % 3 else 64, flags=0 if n % 3 else 64, banner=None,
        accent_color=None, avatar_decoration_data=None, collectibles=None,
        primary_guild=None, display_name_styles=None,
    )  # fmt: skip
    return data


def _role(guild: int, role_id: int, name: str, position: int, permissions: int = 0) -> dict:
    return {"id": str(role_id), "name": name, "permissions": str(permissions),
            "position": position, "color": 0, "colors": {"primary_color": 0,
            "secondary_color": None, "tertiary_color": None}, "hoist": False, "icon": None,
            "unicode_emoji": None, "managed": False, "mentionable": False, "flags": 0,
            "description": None}  # fmt: skip


def _channel(guild: int, cid: int, kind: int, name: str, position: int, parent=None,
             overwrites=()) -> dict:  # fmt: skip
    data = {"id": str(cid), "type": kind, "name": name, "position": position,
            "parent_id": str(parent) if parent else None, "guild_id": str(gid(guild)),
            "permission_overwrites": list(overwrites), "flags": 0, "nsfw": False}  # fmt: skip
    if kind == 0:
        data.update(topic=f"Talk about {name} here.", rate_limit_per_user=0,
                    last_message_id=str(snowflake(cid % 10_000)),
                    default_thread_rate_limit_per_user=0,
                    default_auto_archive_duration=10080)  # fmt: skip
    elif kind == 2:
        data.update(bitrate=64000, user_limit=0, rtc_region=None, last_message_id=None)
    return data


def _thread(guild: int, tid: int, parent: int, name: str, members: int) -> dict:
    return {"id": str(tid), "type": 11, "name": name, "parent_id": str(parent),
            "guild_id": str(gid(guild)), "owner_id": "1", "last_message_id": str(tid + 7),
            "message_count": members * 2, "member_count": members, "rate_limit_per_user": 0,
            "flags": 0, "total_message_sent": members * 2,
            "thread_metadata": {"archived": False, "auto_archive_duration": 10080,
                                "archive_timestamp": START.isoformat(), "locked": False,
                                "create_timestamp": START.isoformat()}}  # fmt: skip


def guild_payload(guild: int, members: int, cohorts: int, with_members: bool = True) -> dict:
    """One server as Discord sends it in ``GUILD_CREATE`` to a bot with the members intent."""
    base = gid(guild)
    everyone = _role(guild, base, "@everyone", 0, permissions=0x6_3584_0E41)
    roles = [everyone, _role(guild, facilitator_role(guild), "Facilitators", 20)]
    roles += [_role(guild, base + ROLE + 2 + i, name, 21 + i) for i, name in enumerate(OTHER_ROLES)]
    categories = [base + CHANNEL + i for i in (1, 2, 3)]
    names = ("Community", "Cohorts", "Voice")
    channels = [_channel(guild, cid, 4, name, i)
                for i, (cid, name) in enumerate(zip(categories, names, strict=True))]  # fmt: skip
    channels += [_channel(guild, base + CHANNEL + 10 + i, 0, name, i, categories[0])
                 for i, name in enumerate(TEXT_CHANNELS)]  # fmt: skip
    channels += [_channel(guild, base + CHANNEL + 30 + i, 2, f"Room {i + 1}", i, categories[2])
                 for i in range(2)]  # fmt: skip
    threads = [_thread(guild, base + THREAD + 500 + i, base + CHANNEL + 13, f"Topic {i}", 6)
               for i in range(5)]  # fmt: skip
    for c in range(cohorts):
        role_id, channel_id, thread_id = cohort_ids(guild, c)
        roles.append(_role(guild, role_id, f"Cohort {c}", 1 + c))
        hidden = {"id": str(base), "type": 0, "allow": "0", "deny": "1024"}
        seen = {"id": str(role_id), "type": 0, "allow": "274877975552", "deny": "0"}
        facilitators = {"id": str(facilitator_role(guild)), "type": 0, "allow": "17179878400",
                        "deny": "0"}  # fmt: skip
        channels.append(_channel(guild, channel_id, 0, f"cohort-{c}", c, categories[1],
                                 (hidden, seen, facilitators)))  # fmt: skip
        threads.append(_thread(guild, thread_id, channel_id, f"Round 1 · Prompt {c}",
                               members // max(cohorts, 1)))  # fmt: skip
    people = []
    for m in range(members if with_members else 0):
        uid = member_uid(guild, m)
        member_roles = [str(cohort_ids(guild, m % cohorts)[0])]
        if m < cohorts:
            member_roles.append(str(facilitator_role(guild)))
        elif m % 10 == 3:
            member_roles.append(str(base + ROLE + 2 + m % len(OTHER_ROLES)))
        people.append({
            "user": realistic_user(uid, m), "roles": member_roles,
            "nick": f"{m}. Nick" if m % 3 == 1 else None, "avatar": None, "banner": None,
            "joined_at": START.isoformat(), "premium_since": None, "deaf": False, "mute": False,
            "flags": 0, "pending": False, "communication_disabled_until": None,
        })  # fmt: skip
    emojis = [{"id": str(base + EMOJI + i), "name": f"emoji_{i}", "roles": [],
               "require_colons": True, "managed": False, "animated": i % 4 == 0,
               "available": True} for i in range(10)]  # fmt: skip
    return {
        "id": str(base), "name": f"Practice Circle {guild}", "icon": _hash(base),
        "description": None, "owner_id": "1", "region": None, "afk_channel_id": None,
        "afk_timeout": 300, "verification_level": 1, "default_message_notifications": 1,
        "explicit_content_filter": 2, "roles": roles, "emojis": emojis, "stickers": [],
        "features": ["COMMUNITY", "NEWS"], "mfa_level": 0, "system_channel_id":
        str(base + CHANNEL + 10), "system_channel_flags": 0, "rules_channel_id":
        str(base + CHANNEL + 11), "vanity_url_code": None, "premium_tier": 0,
        "premium_subscription_count": 0, "preferred_locale": "en-US",
        "public_updates_channel_id": str(base + CHANNEL + 12), "nsfw_level": 0,
        "premium_progress_bar_enabled": False, "joined_at": START.isoformat(), "large": False,
        "unavailable": False, "member_count": members, "voice_states": [],
        "members": people, "channels": channels, "threads": threads, "presences": [],
        "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        "max_members": 500000, "application_command_counts": {},
    }  # fmt: skip


def message_payloads(guilds: int, members: int, cohorts: int, total: int) -> list[dict]:
    """Reflections in the open round threads, spread over every server."""
    payloads = []
    for n in range(total):
        g, m = n % guilds, (n // guilds) % members
        role_id, _, thread_id = cohort_ids(g, m % cohorts)
        payloads.append({
            "id": str(snowflake(n + 1)), "channel_id": str(thread_id), "guild_id": str(gid(g)),
            "author": realistic_user(member_uid(g, m), m),
            "member": {"roles": [str(role_id)], "joined_at": START.isoformat(),
                       "deaf": False, "mute": False, "flags": 0},
            "content": f"{WORDS} {WORDS} {WORDS}", "timestamp": START.isoformat(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
            "pinned": False, "type": 0, "flags": 0, "components": [],
        })  # fmt: skip
    return payloads


# ------------------------------------------------------------------------ measuring


def rss() -> int:
    """Resident set size in bytes, after a full collection."""
    gc.collect()
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def new_bot(db_path: Path, *, cogs: bool = True, **options):
    """A Praxis bot as ``praxis run`` builds it (or a bare client with ``options``)."""
    rest = StubRest()
    if options:
        bot = discord.Client(intents=intents_for(Settings()), **options)
    else:
        bot = create_bot(Settings(database_path=db_path, scheduler_enabled=False))
    await bot._async_setup_hook()
    bot.http.request = rest
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=user(1, "Praxis", bot=True))
    state.application_id = 1
    if cogs:
        await bot.setup_hook()
    return bot


def load_guilds(bot, guilds: int, members: int, cohorts: int, with_members: bool = True):
    """Each payload is built, JSON-encoded, then decoded and parsed: nothing else keeps it."""
    state = bot._connection
    for g in range(guilds):
        text = json.dumps(guild_payload(g, members, cohorts, with_members))
        state._add_guild_from_data(discord.utils._from_json(text))
        del text


async def fill_contexts(bot, guilds: int, cohorts: int) -> int:
    """What every round-thread message does first: look up (and cache) its round."""
    found = 0
    for g in range(guilds):
        for c in range(cohorts):
            found += await bot.contexts.get(cohort_ids(g, c)[2]) is not None
    return found


def fill_messages(bot, payloads: list[dict]) -> int:
    """Parse messages as the gateway would (listeners not run); returns how many were cached."""
    schedule = bot._schedule_event
    bot._schedule_event = lambda *args, **kwargs: None
    try:
        for payload in payloads:
            bot._connection.parse_message_create(payload)
    finally:
        bot._schedule_event = schedule
    return len(bot._connection._messages or ())


def top_sites(snapshot, limit: int = 8) -> list[tuple[str, int, int]]:
    """The allocation sites holding the most memory: (file:line and code, bytes, blocks)."""
    found = []
    for stat in snapshot.statistics("lineno")[:limit]:
        frame = stat.traceback[0]
        where = f"{'/'.join(Path(frame.filename).parts[-2:])}:{frame.lineno}"
        code = linecache.getline(frame.filename, frame.lineno).strip()[:60].rstrip()
        found.append((f"{where}  {code}", stat.size, stat.count))
    return found


async def measure(db_path: Path, guilds: int, members: int, cohorts: int, messages: int) -> dict:
    """Every reading, in this process; the bots are closed at the end."""
    figures: dict = {"rss_start": rss()}
    payloads = message_payloads(guilds, members, cohorts, messages)
    bot = await new_bot(db_path)
    bots = [bot]
    try:
        figures["rss_bot"] = rss()
        load_guilds(bot, guilds, members, cohorts)
        figures["rss_guilds"] = rss()
        figures["members_cached"] = sum(len(g._members) for g in bot.guilds)
        figures["users_cached"] = len(bot._connection._users)
        figures["channels_cached"] = sum(len(g._channels) for g in bot.guilds)
        figures["threads_cached"] = sum(len(g._threads) for g in bot.guilds)
        figures["roles_cached"] = sum(len(g._roles) for g in bot.guilds)
        figures["contexts"] = await fill_contexts(bot, guilds, cohorts)
        figures["rss_contexts"] = rss()
        figures["messages_cached"] = fill_messages(bot, payloads)
        figures["rss_messages"] = rss()

        # The traced pass: the same steps on fresh bots, with tracemalloc counting.
        tracemalloc.start()
        try:
            bare = await new_bot(db_path, cogs=False)
            bots.append(bare)
            mark = traced()
            load_guilds(bare, guilds, members, cohorts)
            figures["traced_guilds"] = traced() - mark
            figures["top_sites"] = top_sites(tracemalloc.take_snapshot())
            empty = await new_bot(db_path, cogs=False)
            bots.append(empty)
            mark = traced()
            load_guilds(empty, guilds, members, cohorts, with_members=False)
            figures["traced_structure"] = traced() - mark
            uncached = await new_bot(
                db_path, cogs=False, member_cache_flags=discord.MemberCacheFlags.none(),
                chunk_guilds_at_startup=False,
            )  # fmt: skip
            bots.append(uncached)
            mark = traced()
            load_guilds(uncached, guilds, members, cohorts)
            figures["traced_no_member_cache"] = traced() - mark
            figures["uncached_members"] = sum(len(g._members) for g in uncached.guilds)
            bot.contexts.clear()
            mark = traced()
            await fill_contexts(bot, guilds, cohorts)
            figures["traced_contexts"] = traced() - mark
            mark = traced()
            fill_messages(bare, payloads)
            figures["traced_messages"] = traced() - mark
        finally:
            tracemalloc.stop()
    finally:
        for each in bots:
            await each.close()
    figures["rss_final"] = rss()
    return figures


def _child(db_path: str, guilds: int, members: int, cohorts: int, messages: int) -> None:
    figures = asyncio.run(measure(Path(db_path), guilds, members, cohorts, messages))
    print(json.dumps(figures))


def run_fresh(db_path: Path, guilds: int, members: int, cohorts: int, messages: int) -> dict:
    """``measure`` in a new interpreter whose only earlier work is its imports."""
    code = (
        "import bench.memory as m\n"
        f"m._child({str(db_path)!r}, {guilds}, {members}, {cohorts}, {messages})\n"
    )
    return json.loads(run_python(code)[-1])


IMPORT_STEPS = (
    ("python, bare interpreter", ""),
    ("+ import discord (aiohttp…)", "import discord"),
    ("+ import numpy and Pillow (chart)", "import numpy, PIL.Image, PIL.ImageFont"),
    ("+ import bot.app (aiosqlite, APScheduler, Praxis)", "import bot.app"),
)  # fmt: skip


def import_rss() -> list[int]:
    """RSS of a fresh interpreter after each of :data:`IMPORT_STEPS`."""
    code = (
        "import gc\n"
        "def rss():\n"
        "    gc.collect()\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'): return int(line.split()[1]) * 1024\n"
        "found = []\n"
    ) + "".join(f"{statement}\nfound.append(rss())\n" for _, statement in IMPORT_STEPS)
    code += "print(*found)\n"
    return [int(value) for value in " ".join(run_python(code)).split()]


def summarise(figures: dict, members_total: int) -> dict:
    """The derived figures: deltas (bytes) and bytes per member."""
    guilds = figures["rss_guilds"] - figures["rss_bot"]
    members_traced = figures["traced_guilds"] - figures["traced_structure"]
    return {
        "guilds_rss": guilds,
        "per_member_rss": guilds / members_total,
        "per_member_traced": figures["traced_guilds"] / members_total,
        "member_cache_traced": members_traced,
        "per_member_cache": members_traced / members_total,
        "no_cache_saves": figures["traced_guilds"] - figures["traced_no_member_cache"],
        "contexts_rss": figures["rss_contexts"] - figures["rss_guilds"],
        "messages_rss": figures["rss_messages"] - figures["rss_contexts"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=50)
    parser.add_argument("--members", type=int, default=200, help="members per server")
    parser.add_argument("--cohorts", type=int, default=10, help="cohorts per server (≤ 25)")
    parser.add_argument("--messages", type=int, default=1000, help="messages to cache")
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters on one DB")
    args = parser.parse_args()
    if not 1 <= args.cohorts <= 25 or args.members < args.cohorts or args.guilds > 9000:
        parser.error("need 1 ≤ --cohorts ≤ 25, --members ≥ --cohorts and --guilds ≤ 9000")
    mib = 2**20
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.db"
        started = time.perf_counter()
        asyncio.run(build_database(path, specs(args.guilds, args.members, args.cohorts), 0, NOW))
        built = time.perf_counter() - started
        imports = import_rss()
        runs = [
            run_fresh(path, args.guilds, args.members, args.cohorts, args.messages)
            for _ in range(args.runs)
        ]
    total = args.guilds * args.members
    derived = [summarise(r, total) for r in runs]
    first = runs[0]

    def row(label: str, values: list[float], unit: str = "MiB", scale: float = mib) -> None:
        cells = "".join(f"{v / scale:>9.1f}" for v in values)
        print(f"  {label:<58}{cells}  {unit}")

    print(f"memory: {args.guilds} servers × {args.members} members = {total:,} members, "
          f"{args.cohorts} cohorts per server (database built in {built:.0f}s)")  # fmt: skip
    print(f"  cached: {first['members_cached']:,} members, {first['users_cached']:,} users, "
          f"{first['roles_cached']:,} roles, {first['channels_cached']:,} channels, "
          f"{first['threads_cached']:,} threads")  # fmt: skip
    print(f"  {'':<58}" + "".join(f"{f'run {i + 1}':>9}" for i in range(len(runs))))
    for (label, _), value in zip(IMPORT_STEPS, imports, strict=True):
        row(f"{label} (RSS)", [value] * len(runs))
    row("baseline: bot built, cogs loaded, no servers (RSS)", [r["rss_bot"] for r in runs])
    row("servers loaded (RSS)", [r["rss_guilds"] for r in runs])
    row(f"+ thread → round cache, {first['contexts']} threads (RSS)",
        [r["rss_contexts"] for r in runs])  # fmt: skip
    row(f"+ messages parsed, {first['messages_cached']} kept in a cache (RSS)",
        [r["rss_messages"] for r in runs])  # fmt: skip
    print("  deltas")
    row("servers (RSS)", [d["guilds_rss"] for d in derived])
    row("servers (traced)", [r["traced_guilds"] for r in runs])
    row("  of which without members (traced)", [r["traced_structure"] for r in runs])
    row("  of which the member cache (traced)", [d["member_cache_traced"] for d in derived])
    row("thread → round cache (RSS)", [d["contexts_rss"] for d in derived])
    row("thread → round cache (traced)", [r["traced_contexts"] for r in runs])
    row("messages parsed (RSS)", [d["messages_rss"] for d in derived])
    row("messages parsed (traced)", [r["traced_messages"] for r in runs])
    print("  per member")
    row("whole servers step / members (RSS)", [d["per_member_rss"] for d in derived], "bytes", 1)
    row("whole servers step / members (traced)", [d["per_member_traced"] for d in derived],
        "bytes", 1)  # fmt: skip
    row("member cache alone (traced)", [d["per_member_cache"] for d in derived], "bytes", 1)
    row("per cached thread → round entry (traced)",
        [r["traced_contexts"] / max(r["contexts"], 1) for r in runs], "bytes", 1)  # fmt: skip
    print(f"  MemberCacheFlags.none() would cache {first['uncached_members']} members and save "
          f"{derived[0]['no_cache_saves'] / mib:.1f} MiB (traced), but role.members — "
          "Praxis's rosters — would then be empty")  # fmt: skip
    print("  largest allocation sites after loading the servers (traced, first run):")
    for where, size, count in first["top_sites"]:
        print(f"    {size / mib:>6.2f} MiB {count:>7,} blocks  {where}")


if __name__ == "__main__":
    main()
