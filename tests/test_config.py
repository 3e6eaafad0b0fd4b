"""Settings: defaults in code, the environment over a ``.env`` file, clear errors."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.config import Settings, read_env_file, token_problem
from bot.core.errors import ConfigError

TOKEN = "secret-token-value"


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_in_code_need_no_token_and_default_everything_else():
    settings = Settings(database_path="x.db")

    assert settings.database_path == Path("x.db")
    assert settings.discord_token is None
    assert settings.log_level == "INFO"
    assert settings.dev_guild_id is None
    assert settings.message_content_intent is True
    assert settings.members_intent is True
    assert settings.scheduler_enabled is True
    assert settings.reconcile_seconds == 300


def test_repr_never_contains_the_token():
    settings = Settings(database_path="x.db", discord_token=TOKEN)

    assert settings.discord_token == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in f"{settings!r} {settings}"
    assert "x.db" in repr(settings)


def test_from_env_with_nothing_set_gives_the_defaults(tmp_path: Path):
    settings = Settings.from_env(environ={}, env_file=tmp_path / "missing.env")

    assert settings == Settings()
    assert settings.database_path == Path("praxis.db")


def test_env_file_with_comments_blank_lines_quotes_and_export(tmp_path: Path):
    path = write_env(
        tmp_path,
        "# Praxis settings\n"
        "\n"
        f'export DISCORD_TOKEN="{TOKEN}"\n'
        "LOG_LEVEL='debug'\n"
        "   DEV_GUILD_ID = 1234567890   \n"
        "   # DEV_GUILD_ID=999 (commented out)\n"
        "MESSAGE_CONTENT_INTENT=no\n"
        "\n"
        "MEMBERS_INTENT=0\n"
        "DATABASE_PATH=data/praxis.db\n"
        "a line without an equals sign\n",
    )

    settings = Settings.from_env(environ={}, env_file=path)

    assert settings.discord_token == TOKEN
    assert settings.log_level == "DEBUG"
    assert settings.dev_guild_id == 1234567890
    assert settings.message_content_intent is False
    assert settings.members_intent is False
    assert settings.database_path == Path("data/praxis.db")


def test_read_env_file_keeps_equals_signs_in_values_and_strips_matching_quotes(tmp_path: Path):
    path = write_env(
        tmp_path,
        "A=x=y\nB=\"quoted value\"\nC='single'\nD=\"mismatched'\nexport E=plain\n",
    )

    assert read_env_file(path) == {
        "A": "x=y",
        "B": "quoted value",
        "C": "single",
        "D": "\"mismatched'",
        "E": "plain",
    }


def test_real_environment_wins_over_the_file(tmp_path: Path):
    path = write_env(
        tmp_path,
        "DISCORD_TOKEN=file-token\nLOG_LEVEL=DEBUG\nDEV_GUILD_ID=1\nMEMBERS_INTENT=false\n",
    )

    settings = Settings.from_env(
        environ={"DISCORD_TOKEN": "env-token", "LOG_LEVEL": "warning", "DEV_GUILD_ID": "2"},
        env_file=path,
    )

    assert settings.discord_token == "env-token"
    assert settings.log_level == "WARNING"
    assert settings.dev_guild_id == 2
    assert settings.members_intent is False  # only in the file, so the file's value holds


def test_default_env_file_is_dot_env_in_the_working_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_env(tmp_path, "DEV_GUILD_ID=42\n")

    assert Settings.from_env(environ={}).dev_guild_id == 42
    assert Settings.from_env(environ={}, env_file=None).dev_guild_id is None


@pytest.mark.parametrize("name", ["MESSAGE_CONTENT_INTENT", "MEMBERS_INTENT"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        (" YES ", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
    ],
)
def test_boolean_settings(name: str, raw: str, expected: bool):
    settings = Settings.from_env(environ={name: raw}, env_file=None)

    field = name.lower()
    assert getattr(settings, field) is expected
    other = "members_intent" if field == "message_content_intent" else "message_content_intent"
    assert getattr(settings, other) is True


def test_dev_guild_id_is_an_int():
    settings = Settings.from_env(environ={"DEV_GUILD_ID": " 987654321012345678 "}, env_file=None)

    assert settings.dev_guild_id == 987654321012345678
    assert isinstance(settings.dev_guild_id, int)


def test_blank_dev_guild_id_means_none():
    assert Settings.from_env(environ={"DEV_GUILD_ID": ""}, env_file=None).dev_guild_id is None


@pytest.mark.parametrize("name", ["MESSAGE_CONTENT_INTENT", "MEMBERS_INTENT"])
def test_bad_boolean_raises_a_clear_config_error(name: str):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ={name: "maybe"}, env_file=None)

    message = str(caught.value)
    assert name in message
    assert "maybe" in message
    assert "true or false" in message
    assert "\n" not in message


@pytest.mark.parametrize("raw", ["abc", "12.5", "1e3", "0x10"])
def test_non_integer_dev_guild_id_raises_a_clear_config_error(raw: str):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ={"DEV_GUILD_ID": raw}, env_file=None)

    message = str(caught.value)
    assert "DEV_GUILD_ID" in message
    assert raw in message
    assert "whole number" in message


def test_bad_log_level_raises_a_clear_config_error():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ={"LOG_LEVEL": "LOUD"}, env_file=None)

    message = str(caught.value)
    assert "LOG_LEVEL" in message
    for level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        assert level in message


def test_bad_value_in_the_env_file_raises_too(tmp_path: Path):
    path = write_env(tmp_path, "MEMBERS_INTENT=maybe\n")

    with pytest.raises(ConfigError, match="MEMBERS_INTENT"):
        Settings.from_env(environ={}, env_file=path)

    # ...unless the real environment overrides it.
    settings = Settings.from_env(environ={"MEMBERS_INTENT": "yes"}, env_file=path)
    assert settings.members_intent is True


def test_config_error_does_not_echo_the_token():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ={"DISCORD_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, env_file=None)

    assert TOKEN not in str(caught.value)


def test_a_token_shaped_like_a_bot_token_passes_the_shape_check():
    bot_id = base64.urlsafe_b64encode(b"1234567890123456789").decode().rstrip("=")
    assert token_problem(f"{bot_id}.GhIjKl.{'a1B2_c3-D4' * 3}") is None


@pytest.mark.parametrize(
    "token",
    ["...", "…", "<your bot token>", "paste-your-token-here", "changeme", "xxxxxxxx"],
)
def test_placeholder_tokens_are_named_as_placeholders(token: str):
    problem = token_problem(token)
    assert problem is not None and "placeholder" in problem
    assert token not in problem


@pytest.mark.parametrize(
    "token",
    [
        "abc.def.ghi",  # three parts, but the first is no id
        base64.urlsafe_b64encode(b"not-an-id-at-all").decode() + ".GhIjKl." + "a" * 30,
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl",  # the last part lost in copying
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.short",
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gh+Ij/Kl." + "a" * 30,  # not base64url
        "Bot MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl." + "a" * 30,
        "c2VjcmV0",
    ],
)
def test_malformed_tokens_are_refused_by_their_shape(token: str):
    problem = token_problem(token)
    assert problem is not None and "doesn't look like a Discord bot token" in problem
    assert token not in problem


def test_database_url_selects_postgresql_and_never_shows_in_repr(tmp_path: Path):
    url = "postgresql://praxis:hunter2@db.example.org/praxis"
    settings = Settings.from_env({"DATABASE_URL": f" {url} "}, env_file=None)

    assert settings.database_url == url
    assert "hunter2" not in repr(settings)
    assert Settings.from_env({}, env_file=None).database_url is None
    assert Settings(database_path=tmp_path / "x.db").database_url is None


def test_a_database_url_for_another_database_is_refused():
    with pytest.raises(ConfigError, match=r"postgresql://"):
        Settings.from_env({"DATABASE_URL": "sqlite:///praxis.db"}, env_file=None)
