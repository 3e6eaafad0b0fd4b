"""The identifier check of a big batch runs in a worker process: same findings, always.

Thread messages arrive in bursts; checking hundreds on the event loop held it for tens of
milliseconds, so a big batch goes to a long-lived worker process. These tests hold that
path to the in-loop definition, and show that a dead worker loses no check.
"""

from __future__ import annotations

import asyncio
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


async def test_a_checker_that_cannot_start_is_not_retried_per_batch(monkeypatch, caplog):
    """Starting a checker spawns an interpreter: when that keeps failing (no processes or
    memory left), big batches are checked here and a new start waits, longer each time."""
    starts = []

    def cannot_start(*args, **kwargs):
        starts.append(privacy._clock())
        raise OSError(11, "Resource temporarily unavailable")

    now, real = [1000.0], privacy.ProcessPoolExecutor
    monkeypatch.setattr(privacy, "ProcessPoolExecutor", cannot_start)
    monkeypatch.setattr(privacy, "_clock", lambda: now[0])
    texts = batch(120, seed=3)
    expected = with_cues([find_identifiers(text) for text in texts])

    for _ in range(5):
        assert with_cues(await find_identifiers_in(texts)) == expected
    assert len(starts) == 2, "one retry at once, then it waits"
    assert "for the next 30 s" in caplog.text

    now[0] += 29
    assert with_cues(await find_identifiers_in(texts)) == expected
    assert len(starts) == 2
    now[0] += 2
    assert with_cues(await find_identifiers_in(texts)) == expected
    assert len(starts) == 3, "tried again once the wait was over"
    assert "for the next 60 s" in caplog.text, "and the next wait is longer"

    now[0] += 61
    monkeypatch.setattr(privacy, "ProcessPoolExecutor", real)  # processes can start again
    assert with_cues(await find_identifiers_in(texts)) == expected
    assert privacy._checker is not None and privacy._failures == 0


def _cannot_start(parent: int) -> None:
    """In the worker, in place of privacy's initializer: it dies before taking any work."""
    raise RuntimeError("this worker cannot start")


async def test_batches_in_flight_when_the_worker_dies_count_as_one_failure(monkeypatch, caplog):
    """Several batches are handed to one worker; its death is one failure, not one per
    batch, so a single death is still retried at once, and a second in a row waits."""
    texts = [batch(120, seed=seed) for seed in range(4)]
    expected = [with_cues([find_identifiers(text) for text in part]) for part in texts]
    await find_identifiers_in(texts[0])  # a worker runs

    def check_all():
        return asyncio.gather(*(find_identifiers_in(part) for part in texts))

    in_flight = check_all()
    await asyncio.sleep(0)  # every batch is handed to the worker
    for process in list(privacy._checker._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
    assert [with_cues(found) for found in await in_flight] == expected
    assert caplog.text.count("checker stopped") == 1
    assert "for the next" not in caplog.text, "one failure: retried at once"

    monkeypatch.setattr(privacy, "_exit_with_parent", _cannot_start)
    assert [with_cues(found) for found in await check_all()] == expected
    assert caplog.text.count("checker stopped") == 2
    assert "for the next 30 s" in caplog.text

    assert [with_cues(found) for found in await check_all()] == expected
    assert caplog.text.count("checker stopped") == 2, "no new worker during the wait"
    assert privacy._checker is None


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
