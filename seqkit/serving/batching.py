"""Micro-batching: requests that arrive together share model calls, and no call outgrows a token budget.

A model call on a batch of 32 texts costs little more than on one text (the recurrent kernels and the Viterbi
pass are vectorised over the batch), so under load the server gains throughput by merging requests. But a
call's time grows with its padded size, its items times its longest item's tokens, and one allowed request
holds up to 256 texts of 1,000 tokens: run whole, three such requests kept a one-sentence request waiting a
minute. So a call holds at most `max_items` items and at most `max_tokens` padded tokens (a single longer item
runs alone), and a request too big for one call is answered over several.

Which items go next: those of the requests with the least work left (shortest remaining work first; ties in
order of arrival). A request that fits in one call therefore waits for the call running when it arrived, not
for the big requests queued before it, which go on a call at a time between the small ones. The price: while a
stream of smaller requests keeps the model busy, a big one waits until it eases.

Each loaded model has one MicroBatcher: request handlers `await batcher.submit(items)`; a single worker task
admits waiting requests (and, while the next call is not full, waits at most `max_wait_seconds` for more), runs
the model in a worker thread, and answers each request once its last item is done. With no load the wait is
short and a lone request runs at once. A request whose client went away is dropped before its next call.

A failing call (one bad text) must not fail its neighbours, so a call that raises is re-run request by request,
and each request gets its own result or its own error.
"""

from __future__ import annotations

import asyncio
import itertools
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
    largest_batch_tokens: int = 0
    started: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        return {
            "requests": self.requests,
            "model_calls": self.model_calls,
            "items": self.items,
            "largest_batch": self.largest_batch,
            "largest_batch_tokens": self.largest_batch_tokens,
        }


@dataclass
class _Pending:
    """One submitted request: its items with their token counts, and how far the model has got through them."""

    items: list
    tokens: list[int]
    future: asyncio.Future
    arrival: int
    done: int = 0
    tokens_left: int = 0
    results: list = field(default_factory=list)


def _one_token(item: Any) -> int:
    return 1


class MicroBatcher:
    """Merge concurrent `submit` calls into batched calls of `predict(items) -> results` (same length).

    `tokens(item)` counts an item's tokens; a call's padded size, its items times its longest item's tokens, stays
    within `max_tokens` (with the default count of one token an item, only `max_items` binds).
    """

    def __init__(
        self,
        predict: Callable[[list], Sequence[Any]],
        max_items: int = 256,
        max_wait_seconds: float = 0.002,
        max_tokens: int = 8_192,
        tokens: Callable[[Any], int] = _one_token,
    ):
        self.predict = predict
        self.max_items = max_items
        self.max_wait_seconds = max_wait_seconds
        self.max_tokens = max_tokens
        self.tokens = tokens
        self.statistics = BatcherStatistics()
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task | None = None
        self._active: list[_Pending] = []  # admitted, not yet answered
        self._arrivals = itertools.count()
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
        """The model's results for `items`, computed in calls shared with whatever else is waiting."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        items = list(items)
        tokens = [self.tokens(item) for item in items]
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(items, tokens, future, next(self._arrivals), tokens_left=sum(tokens)))
        return await future

    async def _work(self) -> None:
        while True:
            if not self._active:
                self._active.append(await self._queue.get())
            await self._gather()
            slices, _ = self._plan()
            if slices:  # none when every admitted request was cancelled
                await self._run(slices)

    async def _gather(self) -> None:
        """Admit every waiting request; while the next call is not full, wait up to max_wait_seconds for more."""
        deadline = time.monotonic() + self.max_wait_seconds
        while True:
            while not self._queue.empty():
                self._active.append(self._queue.get_nowait())
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._plan()[1]:
                return
            try:
                self._active.append(await asyncio.wait_for(self._queue.get(), remaining))
            except asyncio.TimeoutError:
                return

    def _plan(self) -> tuple[list[tuple[_Pending, int]], bool]:
        """The next call as (request, number of its next items) in priority order, and whether the call is full."""
        self._active = [request for request in self._active if not request.future.done()]  # cancelled: dropped
        slices = []
        size = longest = 0
        for request in sorted(self._active, key=lambda request: (request.tokens_left, request.arrival)):
            taken = 0
            for tokens in request.tokens[request.done :]:
                over = size == self.max_items or (size + 1) * max(longest, tokens) > self.max_tokens
                if size and over:  # the first item always goes in: one item over the budget runs alone
                    break
                size, longest, taken = size + 1, max(longest, tokens), taken + 1
            if taken:
                slices.append((request, taken))
            if request.done + taken < len(request.items):
                return slices, True
        return slices, size == self.max_items

    async def _run(self, slices: list[tuple[_Pending, int]]) -> None:
        loop = asyncio.get_running_loop()
        items, tokens = [], []
        for request, taken in slices:
            items += request.items[request.done : request.done + taken]
            tokens += request.tokens[request.done : request.done + taken]
        try:
            results = await loop.run_in_executor(self._executor, self._call, items, len(items) * max(tokens))
        except Exception as error:
            if len(slices) == 1:
                self._answer(slices[0][0], error=error)
            else:
                for one in slices:  # find the failing request(s): each gets its own answer
                    await self._run([one])
            return
        offset = 0
        for request, taken in slices:
            request.results.extend(results[offset : offset + taken])
            request.tokens_left -= sum(request.tokens[request.done : request.done + taken])
            request.done += taken
            offset += taken
            if request.done == len(request.items):
                self._answer(request, result=request.results)

    def _answer(self, request: _Pending, result: list | None = None, error: BaseException | None = None) -> None:
        self._active.remove(request)
        self.statistics.requests += 1
        if request.future.done():  # the client went away and its handler was cancelled
            return
        if error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(result)

    def _call(self, items: list, padded_tokens: int) -> Sequence[Any]:
        results = self.predict(items)
        if len(results) != len(items):
            raise RuntimeError(f"predict returned {len(results)} results for {len(items)} items")
        self.statistics.model_calls += 1
        self.statistics.items += len(items)
        self.statistics.largest_batch = max(self.statistics.largest_batch, len(items))
        self.statistics.largest_batch_tokens = max(self.statistics.largest_batch_tokens, padded_tokens)
        return list(results)
