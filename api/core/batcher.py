"""Group commit: concurrent callers' items go to the database in one statement, each caller awaiting its result.

While one batch is in flight the next one gathers, so under load a round trip serves many requests and
under no load a call costs one round trip as before. A caller returns only once its own batch is done:
nothing is acknowledged before it is written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from api.core.logging import get_logger

log = get_logger("api.batcher")


class Batcher:
    """Runs `run_batch(items) -> results` (same order) over the items submitted while the previous batch ran;
    `hold()` is an async context kept open while batches follow each other (a database connection, say)."""

    def __init__(self, run_batch: Callable[[list[Any]], Awaitable[list[Any]]], *, max_size: int = 256,
                 hold: Callable[[], contextlib.AbstractAsyncContextManager] = contextlib.nullcontext):
        self._run = run_batch
        self._max = max_size
        self._hold = hold
        self._pending: list[tuple[Any, asyncio.Future]] = []
        self._running = False

    async def submit(self, item: Any) -> Any:
        """The result for `item`, once the batch holding it has run (its exception if the batch failed)."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                hold = self._hold()
                try:
                    await hold.__aenter__()
                except Exception as exc:  # could not hold (no database connection): the waiting callers see why
                    _fail(self._pending, exc)
                    self._pending = []
                    return
                try:
                    await self._run_batches()
                finally:
                    try:
                        await hold.__aexit__(None, None, None)
                    except Exception as exc:  # the batches are done; a failed release is the pool's to mend
                        log.warning("batch_hold_release_failed", error_type=type(exc).__name__)
        finally:
            self._running = False

    async def _run_batches(self) -> None:
        """Batches while items keep coming; back after a failed one, so a broken hold is let go and taken anew."""
        while self._pending:
            batch, self._pending = self._pending[:self._max], self._pending[self._max:]
            try:
                results = await self._run([item for item, _ in batch])
                if len(results) != len(batch):
                    raise ValueError(f"a batch of {len(batch)} gave {len(results)} results")
            except Exception as exc:  # every caller of the batch sees the failure
                _fail(batch, exc)
                return
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


def _fail(waiting: list[tuple[Any, asyncio.Future]], exc: Exception) -> None:
    for _, future in waiting:
        if not future.done():
            future.set_exception(exc)
