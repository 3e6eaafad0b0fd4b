"""Settings, read from the environment and an optional ``.env`` file.

``Settings(database_path=...)`` works in code with every other field defaulted and no
token, so tests and tools build a bot without touching the environment. The token is
kept out of ``repr`` so it cannot reach a log line by accident.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
_TOKEN_PART = re.compile(r"^[A-Za-z0-9_-]+$")
#: Words and marks that people leave in place of a token (README's ``DISCORD_TOKEN=…``).
_PLACEHOLDER_HINTS = ("your", "token", "paste", "placeholder", "change", "example", "secret")
_PLACEHOLDER_MARKS = set(".…x*<>_- ")

TOKEN_PLACEHOLDER = (
    "DISCORD_TOKEN is still a placeholder, not a bot token: copy the token from "
    "https://discord.com/developers/applications → your app → Bot → Reset Token into .env."
)
TOKEN_MALFORMED = (
    "DISCORD_TOKEN doesn't look like a Discord bot token (three parts separated by dots, "
    "the first one your bot's id): copy it again from the Developer Portal → Bot → Reset "
    "Token, without quotes, spaces or a 'Bot ' prefix."
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Praxis reads from its environment."""

    database_path: Path = Path("praxis.db")
    #: ``postgresql://…``: use PostgreSQL instead of the SQLite file (see docs/DEPLOYMENT.md).
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    discord_token: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    dev_guild_id: int | None = None
    message_content_intent: bool = True
    members_intent: bool = True
    scheduler_enabled: bool = True
    reconcile_seconds: int = 300
    slack_bot_token: str | None = field(default=None, repr=False)  # xoxb-…: Slack is served
    slack_app_token: str | None = field(default=None, repr=False)  # xapp-…: Socket Mode
    slack_signing_secret: str | None = field(default=None, repr=False)  # HTTP mode
    slack_api_url: str | None = None  # the Web API's base URL (tests, proxies)
    slack_port: int = 3000  # HTTP mode's port for /slack/events
    #: Discord shards: how many in all, and which this process connects (None: all of
    #: them). Set both to run Praxis as several processes on one PostgreSQL (see
    #: docs/DEPLOYMENT.md); unset, one process holds everything.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    #: How long a process's hold on a server's scheduled work lasts unrenewed (several
    #: processes only): a killed process's servers are taken up at most this much later.
    lease_seconds: int = 60

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_path", Path(self.database_path))
        if self.shard_ids is not None:
            object.__setattr__(self, "shard_ids", tuple(sorted(set(self.shard_ids))))
        if problem := shard_problem(self.shard_count, self.shard_ids):
            raise ConfigError(problem)
        if not 5 <= self.lease_seconds <= 3600:
            raise ConfigError("LEASE_SECONDS must be between 5 and 3600.")

    @property
    def process_tag(self) -> str | None:
        """Names this process's own files beside the database when it is one of several
        (``shards-0-1``); None for a lone process."""
        if not self.several_processes:
            return None
        return "shards-" + "-".join(str(i) for i in self.shard_ids or ())

    @property
    def shard_share(self) -> float:
        """This process's share of the shards: of the bot's one global rate limit, too."""
        if not self.several_processes:
            return 1.0
        return len(self.shard_ids or ()) / (self.shard_count or 1)

    @property
    def several_processes(self) -> bool:
        """This process holds only some of the shards: others share the database, and
        scheduled work is divided by leases (:mod:`bot.core.leases`)."""
        return self.shard_ids is not None and len(self.shard_ids) < (self.shard_count or 0)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | str | None = ".env"
    ) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``) over the ``.env`` file.

        Real environment variables win over the file, as with most twelve-factor tools.
        """
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update(read_env_file(Path(env_file)))
        values.update(os.environ if environ is None else environ)
        settings = cls(
            database_path=Path(values.get("DATABASE_PATH") or "praxis.db"),
            database_url=_database_url(values.get("DATABASE_URL")),
            discord_token=(values.get("DISCORD_TOKEN") or "").strip() or None,
            log_level=_log_level(values.get("LOG_LEVEL", "INFO")),
            dev_guild_id=_optional_int("DEV_GUILD_ID", values.get("DEV_GUILD_ID")),
            message_content_intent=_flag(
                "MESSAGE_CONTENT_INTENT", values.get("MESSAGE_CONTENT_INTENT") or "true"
            ),
            members_intent=_flag("MEMBERS_INTENT", values.get("MEMBERS_INTENT") or "true"),
            reconcile_seconds=_reconcile(values.get("RECONCILE_SECONDS")),
            slack_bot_token=_secret(values, "SLACK_BOT_TOKEN"),
            slack_app_token=_secret(values, "SLACK_APP_TOKEN"),
            slack_signing_secret=_secret(values, "SLACK_SIGNING_SECRET"),
            slack_api_url=(values.get("SLACK_API_URL") or "").strip() or None,
            slack_port=_optional_int("SLACK_PORT", values.get("SLACK_PORT")) or 3000,
            shard_count=_optional_int("SHARD_COUNT", values.get("SHARD_COUNT")),
            shard_ids=_shard_ids(values.get("SHARD_IDS")),
            lease_seconds=_optional_int("LEASE_SECONDS", values.get("LEASE_SECONDS")) or 60,
        )
        if settings.several_processes and not settings.database_url:
            raise ConfigError(
                "SHARD_IDS names only some of the shards, so other Praxis processes share the "
                "database: that needs PostgreSQL. Set DATABASE_URL, or unset SHARD_IDS to run "
                "one process."
            )
        return settings

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)


def token_problem(token: str) -> str | None:
    """What is wrong with ``token`` by its shape alone, or ``None`` if it could be a bot token.

    A Discord bot token is three base64url parts joined by dots, and the first part decodes
    to the bot's numeric id. Catching a placeholder or a half-copied token here saves a
    self-hoster a confusing login failure. The returned sentence never contains the token.
    """
    parts = token.split(".")
    if (
        len(parts) == 3
        and all(_TOKEN_PART.match(part) for part in parts)
        and _decodes_to_an_id(parts[0])
        and len(parts[2]) >= 20
    ):
        return None
    lowered = token.lower()
    if set(token) <= _PLACEHOLDER_MARKS or any(hint in lowered for hint in _PLACEHOLDER_HINTS):
        return TOKEN_PLACEHOLDER
    return TOKEN_MALFORMED


def slack_problem(settings: Settings) -> str | None:
    """What stops Praxis serving Slack with these settings, or ``None``.

    Slack's tokens say what they are by their prefix: ``xoxb-`` for the bot token,
    ``xapp-`` for the app-level token Socket Mode needs. The sentence never contains them.
    """
    bot, app, secret = (
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
    )
    if not bot:
        if app or secret:
            return ("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN isn't: "
                    "copy the app's Bot User OAuth Token (xoxb-…) into .env.")  # fmt: skip
        return None
    if not bot.startswith("xoxb-"):
        return ("SLACK_BOT_TOKEN isn't a bot token (those start with xoxb-): copy the app's "
                "Bot User OAuth Token.")  # fmt: skip
    if app and not app.startswith("xapp-"):
        return ("SLACK_APP_TOKEN isn't an app-level token (those start with xapp-): generate "
                "one with connections:write.")  # fmt: skip
    if not app and not secret:
        return ("Slack needs SLACK_APP_TOKEN (Socket Mode, no public URL) or SLACK_SIGNING_SECRET "
                "(HTTP mode on SLACK_PORT) beside SLACK_BOT_TOKEN; see README.md.")  # fmt: skip
    return None


def _database_url(raw: str | None) -> str | None:
    """``DATABASE_URL`` if set: only PostgreSQL URLs (the SQLite file is ``DATABASE_PATH``)."""
    url = (raw or "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "DATABASE_URL must start with postgresql:// (PostgreSQL); for the SQLite file "
            "leave it unset and set DATABASE_PATH."
        )
    return url


def _decodes_to_an_id(part: str) -> bool:
    try:
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return False
    return decoded.isdigit() and 15 <= len(decoded) <= 22  # a Discord snowflake


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=value`` lines; ``#`` comments, blank lines and optional quotes allowed."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()  # an inline comment
        values[key.strip()] = value
    return values


def shard_problem(count: int | None, ids: tuple[int, ...] | None) -> str | None:
    """What is wrong with SHARD_COUNT and SHARD_IDS, in a sentence, or None."""
    if count is None:
        return "SHARD_IDS needs SHARD_COUNT (how many shards in all)." if ids else None
    if count < 1:
        return "SHARD_COUNT must be 1 or more."
    if ids is not None and not ids:
        return "SHARD_IDS is empty: name at least one shard, or unset it for all of them."
    if ids is not None and not all(0 <= i < count for i in ids):
        return f"SHARD_IDS must be shard numbers from 0 to {count - 1} (SHARD_COUNT is {count})."
    return None


def _shard_ids(raw: str | None) -> tuple[int, ...] | None:
    if raw is None or not raw.strip():
        return None
    try:
        return tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError(
            f"SHARD_IDS must be shard numbers separated by commas (like 0,2), not {raw!r}."
        ) from None


def _secret(values: Mapping[str, str], name: str) -> str | None:
    return (values.get(name) or "").strip() or None


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _optional_int(name: str, raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None


def _reconcile(raw: str | None) -> int:
    seconds = _optional_int("RECONCILE_SECONDS", raw)
    if seconds is None:
        return 300
    if not 10 <= seconds <= 3600:
        raise ConfigError("RECONCILE_SECONDS must be between 10 and 3600.")
    return seconds


def _log_level(raw: str) -> str:
    level = raw.strip().upper() or "INFO"
    if level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(sorted(_LOG_LEVELS))}.")
    return level
