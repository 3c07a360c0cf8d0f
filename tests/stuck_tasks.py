"""A test still running after STUCK_TEST_SECONDS (240) writes every asyncio task of the running loops, and where each
one waits, to the real stderr. pytest-timeout ends a stuck xdist worker at 300 s with os._exit, which loses what
pytest captured, and faulthandler's thread stacks show only the loop's select: this names the coroutine stuck."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import os
import threading

import pytest

SECONDS = float(os.environ.get("STUCK_TEST_SECONDS", "240"))
_stderr: int | None = None


def pytest_configure(config) -> None:
    """Keep the real stderr before pytest's capture replaces file descriptor 2."""
    global _stderr
    _stderr = os.dup(2)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Arm the dump for the test's call; disarm it when the test ends."""
    timer = threading.Timer(SECONDS, _dump, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()


def task_stacks(tasks) -> str:
    """Each task, and where it waits, as asyncio prints it."""
    out = io.StringIO()
    for task in list(tasks):
        task.print_stack(file=out)
    return out.getvalue()


def _dump(nodeid: str) -> None:
    text = f"\n=== {nodeid} still running after {SECONDS:.0f} s: its asyncio tasks ===\n"
    with contextlib.suppress(Exception):
        for loop in [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]:
            text += task_stacks(asyncio.all_tasks(loop))
    if _stderr is not None:
        os.write(_stderr, text.encode("utf-8", "replace"))
