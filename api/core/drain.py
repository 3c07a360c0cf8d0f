"""Graceful shutdown: stop accepting, let requests in flight finish within the grace, then close the pools."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from sanic import Sanic

from api.core.logging import get_logger

log = get_logger("api.drain")
# After the grace Sanic aborts the connections left; their handlers are cancelled and need a moment to unwind
# (roll back, hand their database connection back) before the pools close.
UNWIND_SECONDS = 5.0


def install(app: Sanic, grace_seconds: float) -> None:
    """Drain on SIGTERM for up to `grace_seconds`, answering the last requests with `Connection: close`."""
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = grace_seconds
    app.ctx.stop_asked = False
    app.ctx.draining_since = None
    app.ctx.in_flight = set()  # the connection tasks that carried a request and have not ended

    @app.on_request(priority=1000)
    async def _track(request):
        task = asyncio.current_task()
        if task is not None and task not in request.app.ctx.in_flight:
            request.app.ctx.in_flight.add(task)
            task.add_done_callback(request.app.ctx.in_flight.discard)

    @app.on_response(priority=-1000)
    async def _close_when_draining(request, response):
        # Sanic closes idle keep-alive connections on shutdown but keeps the busy ones alive after their answer,
        # then waits out the whole grace for them: the last answer closes its connection instead.
        if request.app.ctx.draining_since is not None and request.stream is not None:
            request.stream.keep_alive = False

    @app.after_server_start
    async def _stop_once(app):
        # Sanic's worker stops its loop on every SIGTERM or SIGINT. A stop is often signalled twice (systemd's stop
        # reaches the whole group, and Sanic's manager passes it on to each worker): the second stop interrupted the
        # drain, cut the requests and cancelled the pools' close (CancelledError in asyncpg's wait_until_released).
        if os.environ.get("SANIC_WORKER_PROCESS") != "true":  # served in a test's own loop: its signals are not ours
            return
        def stop_once():
            if not app.ctx.stop_asked:
                app.ctx.stop_asked = True
                app.stop(terminate=False)

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop_once)

    @app.before_server_stop
    async def _draining(app):
        app.ctx.draining_since = time.monotonic()
        if os.environ.get("SANIC_WORKER_PROCESS") == "true":
            # Sanic has just put the default action (death) back; the main process forces a stop with SIGKILL.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)
        log.info("draining", grace_seconds=grace_seconds, connections=len(app.ctx.in_flight))


async def settle(app: Sanic) -> None:
    """Wait for the request handlers still running (finishing, or unwinding after the grace cut them) to end."""
    pending = {task for task in app.ctx.in_flight if not task.done() and task is not asyncio.current_task()}
    if not pending:
        return
    _, left = await asyncio.wait(pending, timeout=UNWIND_SECONDS)
    if left:
        log.warning("requests_still_running_at_close", count=len(left))


def main_process_signals(app: Sanic) -> None:
    """Before `Sanic.serve`: a stop signalled to the whole group spares Sanic's state manager; the listeners close."""
    # Sanic's main process keeps its workers' states in a multiprocessing manager process, which dies of a SIGTERM
    # sent to the group (systemd's stop) before the main process has read them: it started ignoring SIGTERM, as
    # Sanic stops it with a message of its own at the end.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    @app.main_process_start
    async def _restore(app):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    # The workers stop accepting at once, but the main process (there is one even for a single worker) keeps its copy
    # of the listening socket open until the last worker has exited: the kernel would go on queueing connections
    # nobody accepts, and reset them at the end.
    @app.main_process_ready
    async def _wrap_signals(app):
        manager = app.manager
        socks = [info.settings.get("sock") for info in app.state.server_info]

        def on_signal(signum, frame):
            for sock in socks:
                if sock is not None:
                    sock.close()
            manager.shutdown_signal(signum, frame)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    @app.main_process_stop
    async def _ignore_late_signals(app):
        # The workers are gone and Sanic reads their last states from its manager: a signal now ran the handler
        # in the middle of that read, on the same connection, and the main process exited 1 on a garbled answer.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
