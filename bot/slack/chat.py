"""Slack's implementation of the core's :class:`~bot.core.ports.Chat` port.

Every Slack failure becomes a :class:`DeliveryError` that says whether retrying can
help: a 429 (after slack-sdk's own retries, which honour ``Retry-After``), a 5xx or a
dropped connection can; ``channel_not_found``, ``not_in_channel``, an archived channel, a
deactivated person or a revoked token need a person first.

A round's prompt carries message metadata (``praxis_round`` with the round id): after a
crash or a 5xx, the next attempt looks for it before posting, so a prompt is posted once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.ports import DeliveryError, NudgeMessage, Person, Posted, RoundPost
from bot.core.text import Line, pack_lines
from bot.core.wording import NUDGE_LINES, pairs_head
from bot.slack import blocks
from bot.slack.directory import Directory
from bot.slack.ids import SlackIds

log = logging.getLogger(__name__)

#: Errors after which a DM can't reach this person: fall back to a private note in channel.
DM_IMPOSSIBLE = frozenset({"restricted_action", "cannot_dm_bot", "user_not_visible"})
#: The person's account is gone (deactivated): nobody can reach them, so they are skipped.
ACCOUNT_GONE = frozenset({"user_disabled", "user_not_found"})
#: Slack no longer accepts the token: nothing reaches Slack until the app is reinstalled.
TOKEN_REFUSED = frozenset(
    {"token_revoked", "invalid_auth", "account_inactive", "token_expired", "not_authed"}
)
#: Errors a later attempt can get past without anyone's help.
TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                       "request_timeout"})  # fmt: skip
MESSAGE_CHARS = 4000  # Slack shows longer texts folded; its hard limit is 40,000
HISTORY_PAGES = 3  # how far back a retry looks for its earlier post (3 × 100 messages)
TOKEN_REFUSED_REASON = (
    "Slack no longer accepts Praxis's token (it was revoked, or the app was removed from "
    "the workspace), so a workspace admin must reinstall Praxis"
)
ACCOUNT_GONE_REASON = "that member's Slack account is deactivated"


class AccountGone(DeliveryError):
    """The person's Slack account is deactivated: skipped, never retried."""


def reason_for(code: str, status: int | None, action: str, channel: str | None = None) -> str:
    """What went wrong, in words a facilitator can act on (it becomes their notice)."""
    where = f"<#{channel}>" if channel else "the channel"
    kind = {
        "not_in_channel": f"Praxis was removed from {where} (type `/invite @Praxis` there to "
        "add it back)",
        "is_archived": f"{where} is archived (unarchive it, or choose another channel with "
        "`/praxis edit`)",
        "channel_not_found": f"{where} no longer exists or I can't see it (choose another "
        "channel with `/praxis edit`)",
    }
    if code in TOKEN_REFUSED:
        return TOKEN_REFUSED_REASON
    if code in ACCOUNT_GONE:
        return ACCOUNT_GONE_REASON
    return kind.get(code) or f"Slack answered {code or status} when I tried to {action}"


def error_code(error: SlackApiError) -> str:
    return str(error.response.get("error", "")) if error.response else ""


def passing(error: SlackApiError) -> bool:
    """Whether a later attempt can get past this without anyone's help."""
    status = error.response.status_code if error.response is not None else None
    return error_code(error) in TRANSIENT or (
        status is not None and (status == 429 or status >= 500)
    )


@contextmanager
def translate_errors(
    action: str,
    channel: str | None = None,
    *,
    token_refused: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Slack's failure as a :class:`DeliveryError`: passing (a 429 that outlasted
    slack-sdk's retries, a 5xx, a dropped connection) or not (everything else)."""
    try:
        yield
    except SlackApiError as error:
        code = error_code(error)
        status = error.response.status_code if error.response is not None else None
        transient = passing(error)
        if code in TOKEN_REFUSED and token_refused is not None:
            token_refused(code)
        failure = AccountGone if code in ACCOUNT_GONE else DeliveryError
        raise failure(
            reason_for(code, status, action, channel),
            permanent=not transient,
            status=status,
            dms_closed=code in DM_IMPOSSIBLE,
        ) from error
    except (TimeoutError, aiohttp.ClientError) as error:
        raise DeliveryError(f"the connection to Slack failed while I tried to {action}",
                            permanent=False) from error  # fmt: skip


class SlackChat:
    def __init__(self, client: AsyncWebClient, ids: SlackIds, directory: Directory) -> None:
        self._client = client
        self._ids = ids
        self._people = directory
        self.workspace_url: str | None = None  # https://WORKSPACE.slack.com/, from auth.test
        self.token_refused = False  # Slack refused the token: said once in the log

    def translate(self, action: str, channel: str | None = None):
        """:func:`translate_errors` for this workspace (a refused token is logged once)."""
        return translate_errors(action, channel, token_refused=self._token_refused)

    def _token_refused(self, code: str) -> None:
        if not self.token_refused:
            self.token_refused = True
            log.error(
                "Slack refused Praxis's bot token (%s): it was revoked or the app was removed "
                "from the workspace. Nothing reaches Slack now, so Praxis can't tell the "
                "facilitators either. A workspace admin must reinstall the app; put its new "
                "bot token in SLACK_BOT_TOKEN and restart Praxis.",
                code,
            )

    # ------------------------------------------------------------------ rounds

    async def find_round_message(
        self, channel_id: int, round_id: int, since: datetime
    ) -> int | None:
        channel = await self._ids.text(channel_id)
        cursor = None
        with self.translate("read the channel history", channel):
            for _ in range(HISTORY_PAGES):
                page = await self._client.conversations_history(
                    channel=channel,
                    oldest=f"{since.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=100,
                    cursor=cursor,
                )
                for message in page["messages"]:
                    meta = message.get("metadata") or {}
                    if (
                        meta.get("event_type") == blocks.ROUND_EVENT
                        and (meta.get("event_payload") or {}).get("round_id") == round_id
                    ):
                        return await self._ids.message(channel, message["ts"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        return None

    async def post_round(self, channel_id: int, post: RoundPost) -> int:
        channel = await self._ids.text(channel_id)
        with self.translate("post the round's prompt", channel):
            sent = await self._client.chat_postMessage(
                channel=channel, **blocks.round_message(post), unfurl_links=False
            )
        return await self._ids.message(channel, sent["ts"])

    async def open_round_thread(self, channel_id: int, message_id: int, post: RoundPost) -> int:
        """A Slack thread is its parent message: nothing to open."""
        return message_id

    # ------------------------------------------------------------------ members

    async def roster(self, cohort) -> list[Person] | None:
        """The cohort channel's members, less bots, deactivated accounts and facilitators."""
        channel = await self._ids.text(cohort.channel_id)
        try:
            with self.translate("list the channel's members", channel):
                members = await self._people.members(channel)
                facilitators = await self.facilitator_ids(cohort)
                people = [await self._people.person(user) for user in members]
        except DeliveryError as error:
            if error.permanent:
                return []
            return None  # Slack unavailable now: nudges and digests wait for a later tick
        wanted = [
            p for p in people
            if not (p.is_bot or p.deleted or p.manages_workspace or p.id in facilitators)
        ]  # fmt: skip
        numbers = await self._ids.numbers("user", [p.id for p in wanted])
        return [Person(numbers[p.id], p.name) for p in wanted]

    async def facilitator_ids(self, cohort) -> set[str]:
        """The Slack ids in the cohort's facilitator user group (none if it names none)."""
        if cohort.facilitator_role_id is None:
            return set()
        group = await self._ids.text(cohort.facilitator_role_id)
        return await self._people.group_members(group)

    async def send_nudge(
        self, user_id: int, dm_channel_id: int | None, message: NudgeMessage
    ) -> int:
        """One request when the DM channel is known; two the first time."""
        user = await self._ids.text(user_id)
        try:
            if dm_channel_id is None:
                with self.translate("open a direct message"):
                    opened = await self._client.conversations_open(users=user)
                dm = opened["channel"]["id"]
                dm_channel_id = await self._ids.number("channel", dm)
            else:
                dm = await self._ids.text(dm_channel_id)
            thread = await self.thread_link(message.thread_id)
            with self.translate("send a reminder"):
                await self._client.chat_postMessage(
                    channel=dm, **blocks.nudge_message(message, thread)
                )
        except AccountGone:
            self._people.forget(user)  # asked again next time: off the roster, deactivated
            raise
        return dm_channel_id

    async def nudge_in_thread(self, thread_id: int, messages: list[NudgeMessage]) -> Posted:
        """Slack can show one member a message only they see, in the round's thread: no
        public mention of who is behind. One member per call (see :class:`Posted`)."""
        channel, ts = await self._ids.message_ref(thread_id)
        message = messages[0]
        user = await self._ids.text(message.member.id)
        text = (f"A gentle nudge, for your eyes only: {NUDGE_LINES[message.kind]} "
                f"{blocks.date(message.due)}. You can turn these off with "
                "`/praxis me nudges off`.")  # fmt: skip
        with self.translate("leave a private reminder in the channel", channel):
            await self._client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=ts, text=text
            )
        return Posted(message_id=0, count=1)  # an ephemeral message has no lasting id

    async def announce_pairs(self, thread_id: int, plan, *, late: bool, continued: bool) -> Posted:
        """As on Discord: each line notifies its reviewer; the peers are named."""
        channel, ts = await self._ids.message_ref(thread_id)
        people = {n: await self._ids.text(n) for r, a in plan.items() for n in (r, *a) if n > 0}

        def name(number: int) -> str:
            return f"<@{people[number]}>" if number in people else "a former member"

        lines = [
            Line(f"{name(reviewer)} → " + ", ".join(name(a) for a in authors), pings=(reviewer,))
            for reviewer, authors in plan.items()
        ]
        head = pairs_head(blocks.MARKUP, late=late, continued=continued)
        part = pack_lines(head, lines, max_chars=MESSAGE_CHARS, max_pings=len(lines) or 1)[0]
        with self.translate("post the feedback pairs", channel):
            sent = await self._client.chat_postMessage(
                channel=channel, thread_ts=ts, text=part.text
            )
        return Posted(await self._ids.message(channel, sent["ts"]), part.count)

    # ------------------------------------------------------------------ facilitators

    async def send_digest(self, cohort, summary, chart_png: bytes) -> None:
        from bot.slack.reports import round_summary_text  # the digest and /praxis report

        text = round_summary_text(summary)
        for channel in await self._facilitator_channels(cohort):
            with self.translate("post the digest", channel):
                await self._client.files_upload_v2(
                    channel=channel,
                    content=chart_png,
                    filename="participation.png",
                    title=f"{summary.cohort_name} · participation",
                    initial_comment=text,
                )

    async def tell_facilitators(self, cohort, title: str, text: str) -> None:
        for channel in await self._facilitator_channels(cohort):
            with self.translate("send a notice", channel):
                await self._client.chat_postMessage(channel=channel, **blocks.notice(title, text))

    async def _facilitator_channels(self, cohort) -> list[str]:
        """The digest channel if set; else each facilitator's DM (opened once per send)."""
        if cohort.digest_channel_id:
            return [await self._ids.text(cohort.digest_channel_id)]
        with self.translate("find the cohort's facilitators"):
            people = sorted(await self.facilitator_ids(cohort))
            if not people:  # no user group: the workspace admins in the cohort's channel
                channel = await self._ids.text(cohort.channel_id)
                for user in await self._people.members(channel):
                    person = await self._people.person(user)
                    if person.manages_workspace and not person.deleted and not person.is_bot:
                        people.append(user)
        channels = []
        for user in people:
            try:
                with self.translate("open a direct message"):
                    opened = await self._client.conversations_open(users=user)
            except AccountGone:
                continue  # a deactivated facilitator: the others still hear
            channels.append(opened["channel"]["id"])
        if not channels:
            raise DeliveryError("the cohort has no facilitator I can reach", permanent=True)
        return channels

    async def thread_link(self, thread_id: int | None) -> str | None:
        """A link to a round's thread, for a DM that points there; built from the workspace's
        address (``auth.test``) as Slack's permalinks are, so it costs no request."""
        if thread_id is None or not self.workspace_url:
            return None
        channel, ts = await self._ids.message_ref(thread_id)
        link = f"{self.workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
        return f"<{link}|the round's thread>"
