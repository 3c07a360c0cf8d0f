"""Why a job failed, in a word: passing outages (worth another try) and the short reason a failed job records.

The one list of transient errors: database and Redis connections that dropped or timed out, an upstream
platform that is down, a connection refused or reset. Everything else (a bad input, a bug) fails for good.
"""

from __future__ import annotations

import socket
import sqlite3

import asyncpg
from redis import exceptions as redis_errors
from tortoise.exceptions import DBConnectionError

from api.core.errors import AppError, UpstreamOutcomeUnknown, UpstreamUnavailable

# First match wins: subclasses come before their bases.
TRANSIENT: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError,
      asyncpg.AdminShutdownError, asyncpg.exceptions.CrashShutdownError, DBConnectionError,
      asyncpg.ReadOnlySQLTransactionError), "database_unavailable"),  # read-only: a standby during a failover
    ((asyncpg.QueryCanceledError,), "database_timeout"),  # statement_timeout, or cancelled by an operator
    ((asyncpg.LockNotAvailableError, asyncpg.SerializationError, asyncpg.DeadlockDetectedError), "database_busy"),
    ((redis_errors.TimeoutError,), "redis_timeout"),
    ((redis_errors.ConnectionError, redis_errors.ReadOnlyError), "redis_unavailable"),  # BusyLoadingError is one
    ((UpstreamOutcomeUnknown,), "upstream_timeout"),
    ((UpstreamUnavailable,), "upstream_unavailable"),
    ((TimeoutError,), "timeout"),
    ((ConnectionError, socket.gaierror), "connection_error"),
)
# SQLite's own way of saying "another writer holds the file": the ORM wraps it in its OperationalError.
_SQLITE_BUSY = ("database is locked", "database table is locked")
# asyncpg's way of saying a connection died under a transaction (its rollback, or a query after it): an
# InterfaceError, the class it also uses for misuse, so the message decides.
_PG_CLOSED = ("connection is closed", "connection was closed")


def transient_reason(exc: BaseException) -> str | None:
    """The short reason when `exc` (or an error it wraps) is a passing outage; None when retrying cannot help."""
    for error in _chain(exc):
        for types, reason in TRANSIENT:
            if isinstance(error, types):
                return reason
        if isinstance(error, sqlite3.OperationalError) and str(error).startswith(_SQLITE_BUSY):
            return "database_busy"
        if isinstance(error, asyncpg.InterfaceError) and any(text in str(error) for text in _PG_CLOSED):
            return "database_unavailable"
        if isinstance(error, asyncpg.exceptions.InternalClientError):
            # The pool's or protocol's state after a connection was lost mid-statement (a second release of its
            # holder): seen only in PostgreSQL restarts, and a fresh connection is the cure.
            return "database_unavailable"
    return None


def failure_reason(exc: BaseException) -> str:
    """The short, machine-readable reason a job that raised `exc` records as failed (never the error's text)."""
    return transient_reason(exc) or (exc.code if isinstance(exc, AppError) else "internal_error")


def _chain(exc: BaseException):
    """`exc` and the errors it wraps: its cause, its context (unless suppressed), and the driver error the ORM
    wraps as its first argument."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 12:
        error = todo.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        todo.append(error.__cause__)
        if not error.__suppress_context__:
            todo.append(error.__context__)
        if error.args and isinstance(error.args[0], BaseException):
            todo.append(error.args[0])
