"""``praxis run`` serving Slack alone, in a real process, over real HTTP (HTTP mode)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from slacksim import SlackSim

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.sqlite_only(
    "a real process on an SQLite file; PostgreSQL processes come next"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_for(condition, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_praxis_run_serves_a_slack_workspace_and_stops_cleanly(tmp_path):
    async with SlackSim() as slack:
        ws = slack.create_workspace("Practice School")
        amal = ws.add_user("amal", admin=True)
        room = ws.create_channel("reflections", members=[amal])
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD", "SLACK"))},
            "SLACK_BOT_TOKEN": ws.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "SLACK_PORT": str(port),
            "DATABASE_PATH": str(tmp_path / "praxis.db"),
            "PYTHONUNBUFFERED": "1",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env"), "run",
            cwd=ROOT, env=env, stdout=PIPE, stderr=PIPE,
        )  # fmt: skip
        try:
            await wait_for(lambda: slack.calls_to("auth.test"))
            slack.deliver_to(f"http://127.0.0.1:{port}/slack/events")
            for _ in range(100):  # the HTTP server starts just after auth.test and backfill
                try:
                    answer = await amal.command("/praxis", "help", channel=room)
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            assert answer.status == 200
            await wait_for(lambda: any("/praxis create" in e.text for e in amal.private_messages()))
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = (part.decode() for part in await asyncio.wait_for(process.communicate(), 30))
        assert process.returncode == 0, err[-2000:]
        assert ws.bot_token not in out + err and slack.signing_secret not in out + err
