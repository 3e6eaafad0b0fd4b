"""The Batcher: what arrives in one moment is processed together, and nothing is dropped."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.batching import Batcher


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        await asyncio.sleep(0)  # a commit takes a moment; more items may arrive meanwhile
        if self.fail:
            raise RuntimeError("disk on fire")
        return [item * 10 for item in items]


async def test_items_arriving_together_share_one_batch_and_each_gets_its_result():
    process = Recorder()
    batcher = Batcher(process)
    futures = [batcher.put(n) for n in range(5)]
    assert await asyncio.gather(*futures) == [0, 10, 20, 30, 40]
    assert process.batches == [[0, 1, 2, 3, 4]]


async def test_batches_are_capped_and_later_arrivals_form_the_next():
    process = Recorder()
    batcher = Batcher(process, max_batch=2)
    first = [batcher.put(n) for n in range(3)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first batch is being processed
    late = batcher.put(3)
    await asyncio.gather(*first, late)
    assert [n for batch in process.batches for n in batch] == [0, 1, 2, 3]
    assert all(len(batch) <= 2 for batch in process.batches)


async def test_a_failed_batch_reaches_every_caller_and_the_next_batch_still_runs():
    process = Recorder(fail=True)
    batcher = Batcher(process)
    with pytest.raises(RuntimeError):
        await batcher.put(1)
    process.fail = False
    assert await batcher.put(2) == 20


async def test_drain_waits_for_everything_queued():
    process = Recorder()
    batcher = Batcher(process)
    futures = [batcher.put(n) for n in range(3)]
    await batcher.drain()
    assert all(future.done() for future in futures)


async def test_shutdown_cancels_what_was_never_processed():
    blocked = asyncio.Event()

    async def stuck(items: list[int]) -> list[int]:
        await blocked.wait()
        return items

    batcher = Batcher(stuck, max_batch=1)
    first, second = batcher.put(1), batcher.put(2)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    batcher._flusher.cancel()
    await asyncio.sleep(0)
    assert first.cancelled() and second.cancelled()
    assert batcher._flusher is None


async def test_a_burst_arriving_one_item_per_turn_is_one_batch():
    """The gateway hands messages over one per turn of the event loop: the batch waits for
    the burst to end (one commit), while a lone item still goes after a single turn."""
    process = Recorder()
    batcher = Batcher(process)
    futures = []
    for n in range(20):
        futures.append(batcher.put(n))
        await asyncio.sleep(0)
    await asyncio.gather(*futures)
    assert process.batches == [list(range(20))]
    alone = batcher.put(99)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert process.batches[-1] == [99]
    await alone


async def test_pushed_items_join_the_same_batches_as_awaited_ones():
    process = Recorder()
    batcher = Batcher(process)
    batcher.push(1)
    waited = batcher.put(2)
    batcher.push(3)
    assert await waited == 20
    await batcher.drain()
    assert process.batches == [[1, 2, 3]]


async def test_a_failed_batch_of_pushed_items_is_logged_not_silently_lost(caplog):
    batcher = Batcher(Recorder(fail=True))
    batcher.push(1)
    waited = batcher.put(2)
    with pytest.raises(RuntimeError):
        await waited
    await batcher.drain()
    assert "A batch of 2 failed" in caplog.text
