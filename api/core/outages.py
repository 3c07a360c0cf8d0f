"""A request that failed because the database or Redis cannot be reached: which store, and one log line per outage."""

from __future__ import annotations

import time

from api.core import failures
from api.core.logging import get_logger

log = get_logger("api.outage")

# A run of failures with no quiet gap this long between them (and no /readyz that found both stores answering) is
# one outage, logged once.
QUIET_SECONDS = 30.0
_last_seen: dict[str, float] = {}


def unavailable_store(exc: BaseException) -> str | None:
    """`database`, `redis` or `network` when `exc` (or an error it wraps) says a store cannot be reached or is
    too busy right now (failures.TRANSIENT, the list the jobs retry on); None for any other error."""
    reason = failures.transient_reason(exc)
    if reason is None or reason.startswith("upstream"):
        return None
    return reason.partition("_")[0] if reason.startswith(("database", "redis")) else "network"


def note(store: str, exc: BaseException, path: str) -> None:
    """Log the first failure of an outage; later ones within QUIET_SECONDS of the last are the same outage."""
    now = time.monotonic()
    last = _last_seen.get(store)
    _last_seen[store] = now
    if last is None or now - last > QUIET_SECONDS:
        # The type and the route only: a driver's message may quote a query's values.
        log.warning("store_unavailable", store=store, error_type=type(exc).__name__, path=path,
                    reason=failures.transient_reason(exc))


def recovered() -> None:
    """Both stores answered (/readyz): the next failure starts a new outage."""
    _last_seen.clear()
