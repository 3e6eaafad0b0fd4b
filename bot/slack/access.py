"""The one permission check on Slack, and the channel checks that go with it.

Workspace admins and owners play Discord's Manage Server: they may create cohorts and
manage any. A cohort's facilitator user group (``facilitator_role_id``) may manage that
cohort only. Everyone else is a member. The bot never lends power: a facilitator may
point a cohort only at a channel they are in themselves.
"""

from __future__ import annotations

from bot.core.cohorts import Cohort
from bot.core.errors import InvalidInput, NotAllowed
from bot.slack.directory import SlackPerson

NOT_ADMIN = "Only workspace admins and owners can do that."
NOT_FACILITATOR = "Only this cohort's facilitators (or workspace admins) can do that."


async def is_facilitator(runtime, person: SlackPerson, cohort: Cohort | None) -> bool:
    if person.manages_workspace:
        return True
    if cohort is None or cohort.facilitator_role_id is None or cohort.platform != "slack":
        return False
    return person.id in await runtime.chat.facilitator_ids(cohort)


async def require_facilitator(runtime, user_id: str, cohort: Cohort | None = None) -> SlackPerson:
    """Raise :class:`NotAllowed` unless the user may manage ``cohort`` (or any, when None)."""
    person = await runtime.people.person(user_id)
    if person.deleted or person.is_bot or not await is_facilitator(runtime, person, cohort):
        raise NotAllowed(NOT_FACILITATOR if cohort is not None else NOT_ADMIN)
    return person


async def check_channel_for(runtime, user_id: str, channel: str, *, private: bool) -> None:
    """The person must be in ``channel`` (so they could post there themselves), and so must
    Praxis; a digest channel (``private``) must be a private channel, as digests name
    members and how they are doing."""
    info = (await runtime.client.conversations_info(channel=channel))["channel"]
    name = f"<#{channel}>"
    if info.get("is_im") or info.get("is_mpim"):
        raise InvalidInput("Pick a channel, not a direct message.")
    if info.get("is_archived"):
        raise InvalidInput(f"{name} is archived. Pick another channel.")
    if private and not info.get("is_private"):
        raise InvalidInput(
            f"Digests name members and how each is doing, so they go to a private channel "
            f"for facilitators only, and {name} is public. Pick a private channel, or leave "
            "it empty to get digests by direct message."
        )
    members = set(await runtime.people.members(channel))
    if user_id not in members:
        raise InvalidInput(
            f"You can only choose a channel you're in yourself, and you're not in {name}."
        )
    if runtime.bot_user_id not in members:
        raise InvalidInput(f"I'm not in {name} yet: type `/invite @Praxis` there, then try again.")
