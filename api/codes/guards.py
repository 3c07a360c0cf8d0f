"""The request guard of scanning terminals: `Authorization: Terminal <terminal_id>:<secret>`."""

from __future__ import annotations

from functools import wraps

from api.codes import terminals
from api.codes.errors import TerminalRefused
from api.codes.service import runtime


async def authenticate_terminal(request) -> terminals.TerminalInfo:
    """The active scanning terminal behind the request's credentials."""
    header = request.headers.get("authorization", "")
    if not header.isascii():  # a terminal's credentials are ASCII: other bytes are refused, never looked up
        raise TerminalRefused()
    scheme, _, credentials = header.partition(" ")
    terminal_id, _, secret = credentials.strip().partition(":")
    if scheme.lower() != "terminal" or not terminal_id or not secret:
        raise TerminalRefused()
    deps = request.app.ctx.deps
    terminal = await terminals.authenticate(hasher=runtime(deps).hasher, redis=deps.redis, terminal_id=terminal_id,
                                            secret=secret)
    if terminal is None:
        raise TerminalRefused()
    return terminal


def terminal_required(handler):
    """Guard a route for registered, active scanning terminals (request.ctx.terminal)."""

    @wraps(handler)
    async def guarded(request, *args, **kwargs):
        request.ctx.terminal = await authenticate_terminal(request)
        return await handler(request, *args, **kwargs)

    return guarded
