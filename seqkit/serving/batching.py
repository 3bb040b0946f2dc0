"""Micro-batching: requests that arrive together are answered by one model call.

A model call on a batch of 32 texts costs little more than on one text (the recurrent kernels and the Viterbi
pass are vectorised over the batch), so under load the server gains throughput by merging requests. Each
loaded model has one MicroBatcher: request handlers `await batcher.submit(items)`; a single worker task takes
the first waiting request, then keeps taking queued requests (waiting at most `max_wait_seconds` for more)
until `max_items` items are gathered, runs the model once in a worker thread, and hands each request its own
slice of the results. With no load the wait is short and a lone request runs at once.

A failing batch (one bad text) must not fail its neighbours, so a batch that raises is re-run request by
request, and each request gets its own result or its own error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BatcherStatistics:
    """Counts for /health and for tests: requests answered, model calls made, items processed."""

    requests: int = 0
    model_calls: int = 0
    items: int = 0
    largest_batch: int = 0
    started: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        return {
            "requests": self.requests,
            "model_calls": self.model_calls,
            "items": self.items,
            "largest_batch": self.largest_batch,
        }


@dataclass
class _Pending:
    items: list
    future: asyncio.Future


class MicroBatcher:
    """Merge concurrent `submit` calls into batched calls of `predict(items) -> results` (same length)."""

    def __init__(self, predict: Callable[[list], Sequence[Any]], max_items: int = 256, max_wait_seconds: float = 0.002):
        self.predict = predict
        self.max_items = max_items
        self.max_wait_seconds = max_wait_seconds
        self.statistics = BatcherStatistics()
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task | None = None
        # One thread: the model is never called from two threads at once, and the event loop stays free.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seqkit-model")

    def start(self) -> None:
        """Start the worker on the running event loop (called at application start-up)."""
        self._queue = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)

    async def submit(self, items: list) -> list:
        """The model's results for `items`, computed in a batch with whatever else is waiting."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(list(items), future))
        return await future

    async def _work(self) -> None:
        queue = self._queue
        while True:
            pending = [await queue.get()]
            size = len(pending[0].items)
            deadline = time.monotonic() + self.max_wait_seconds
            while size < self.max_items:
                remaining = deadline - time.monotonic()
                if queue.empty() and remaining <= 0:
                    break
                try:
                    if queue.empty():
                        following = await asyncio.wait_for(queue.get(), remaining)
                    else:
                        following = queue.get_nowait()
                except asyncio.TimeoutError:
                    break
                if size + len(following.items) > self.max_items:
                    # Too big to join: answer what is gathered, and let this request open the next batch.
                    await self._answer(pending)
                    pending, size = [following], len(following.items)
                    deadline = time.monotonic() + self.max_wait_seconds
                    continue
                pending.append(following)
                size += len(following.items)
            await self._answer(pending)

    async def _answer(self, pending: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        items = [item for request in pending for item in request.items]
        try:
            results = await loop.run_in_executor(self._executor, self._call, items)
        except Exception as error:
            if len(pending) == 1:
                self.statistics.requests += 1
                self._settle(pending[0].future, error=error)
            else:
                for request in pending:  # find the failing request(s): each gets its own answer
                    await self._answer([request])
            return
        offset = 0
        for request in pending:
            self._settle(request.future, result=list(results[offset : offset + len(request.items)]))
            offset += len(request.items)
        self.statistics.requests += len(pending)

    def _call(self, items: list) -> Sequence[Any]:
        results = self.predict(items)
        if len(results) != len(items):
            raise RuntimeError(f"predict returned {len(results)} results for {len(items)} items")
        self.statistics.model_calls += 1
        self.statistics.items += len(items)
        self.statistics.largest_batch = max(self.statistics.largest_batch, len(items))
        return results

    @staticmethod
    def _settle(future: asyncio.Future, result: Any = None, error: BaseException | None = None) -> None:
        if future.done():  # the client went away and its handler was cancelled
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
