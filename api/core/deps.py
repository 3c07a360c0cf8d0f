"""What services need from the running process, built once at start-up and passed explicitly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api.core.settings import Settings
from api.core.storage import FileStorage

# (principal_id, agent_id, scope) -> the level the agent acts at for the principal, or None without a mandate.
DelegationCheck = Callable[..., Awaitable[int | None]]
# (admin_id) -> the staff member's current (roles, depts), or None when the account is gone or disabled.
StaffLookup = Callable[..., Awaitable[tuple[list[str], list[str]] | None]]


@dataclass(eq=False)
class Deps:
    """The one way services get settings, connections and clients (a server worker and a job worker each build
    one in their start-up hook; views read it from `request.app.ctx.deps`, jobs from `ctx["deps"]`)."""

    settings: Settings
    redis: Any  # redis.asyncio.Redis (decoding), or fakeredis in the embedded run
    redis_reads: Any  # api.core.redis.CoalescedReads over `redis`
    clock: Callable[[], dt.datetime]
    jobs: Any  # api.core.queue.JobQueue
    storage: FileStorage
    platforms: Mapping[str, Any]  # "wechat", "alipay", "sms": miniapp_handlers clients
    tokens: Any  # auth.tokens.TokenService: signs and checks access tokens
    delegations: DelegationCheck  # the citizens' mandates (亲友代办), for the request guards
    staff: StaffLookup  # the staff accounts' current roles and departments, for the request guards
    # Per-process state a domain derives once from the fields above (code key rings, group-commit batchers,
    # signing keys), each under the domain's own name: see e.g. api.codes.runtime.
    state: dict[str, Any] = field(default_factory=dict)

    def derived(self, name: str, build: Callable[[Deps], Any]) -> Any:
        """The state `build(self)` made the first time `name` was asked for in this process."""
        value = self.state.get(name)
        if value is None:
            value = self.state[name] = build(self)
        return value
