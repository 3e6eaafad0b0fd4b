"""The identifier check of a big batch runs in a worker process: same findings, always.

Thread messages arrive in bursts; checking hundreds on the event loop held it for tens of
milliseconds, so a big batch goes to a long-lived worker process. These tests hold that
path to the in-loop definition, and show that a dead worker loses no check.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from bench.texts import reflection
from bot.core import privacy
from bot.core.privacy import find_identifiers, find_identifiers_in


@pytest.fixture(autouse=True)
def no_checker_left():
    privacy.stop_checker()
    yield
    privacy.stop_checker()


def batch(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    return [reflection(rng, identifier=rng.random() < 0.2)[0] for _ in range(count)]


def with_cues(results):
    return [[(f, f.cue) for f in findings] for findings in results]


async def test_a_big_batch_is_checked_in_the_worker_with_the_same_findings():
    texts = batch(120)
    assert sum(map(len, texts)) > privacy.INLINE_CHARS
    found = await find_identifiers_in(texts)
    assert privacy._checker is not None, "the worker took the batch"
    assert with_cues(found) == with_cues([find_identifiers(text) for text in texts])
    assert any(found), "the batch holds identifiers to find"


async def test_a_small_batch_is_checked_right_here():
    texts = ["my client Maria Lopez cried", "nothing to see"]
    assert await find_identifiers_in(texts) == [find_identifiers(text) for text in texts]
    assert privacy._checker is None


async def test_a_dead_worker_loses_no_check(caplog):
    texts = batch(120, seed=9)
    expected = with_cues([find_identifiers(text) for text in texts])
    assert with_cues(await find_identifiers_in(texts)) == expected
    for process in list(privacy._checker._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
        process.join(5)
    assert with_cues(await find_identifiers_in(texts)) == expected  # checked here instead
    assert "checking here" in caplog.text
    assert with_cues(await find_identifiers_in(texts)) == expected  # and a new worker starts
    assert privacy._checker is not None


CHILD = """
import asyncio, sys
from bench.texts import reflection
from bot.core import privacy
import random
rng = random.Random(1)
texts = [reflection(rng)[0] for _ in range(60)]
asyncio.run(privacy.find_identifiers_in(texts))
[worker] = privacy._checker._processes
print(worker, flush=True)
sys.stdin.read()
"""


def test_the_worker_leaves_when_the_bot_is_killed_outright():
    """A SIGKILLed bot can't stop its worker: the worker notices and leaves by itself."""
    bot = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    worker = 0
    try:
        worker = int(bot.stdout.readline())
        os.kill(bot.pid, signal.SIGKILL)
        bot.wait(10)
        deadline = time.monotonic() + 20  # it looks once a second
        while time.monotonic() < deadline and _alive(worker):
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived the bot"
    finally:
        bot.kill()
        if worker and _alive(worker):
            os.kill(worker, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
