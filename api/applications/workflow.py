"""The one workflow every case follows, and how a bundle's status follows its sub-cases."""

from __future__ import annotations

from api.core.errors import Conflict

# action -> {from status: to status}
STAFF_MOVES: dict[str, dict[str, str]] = {
    "accept": {"submitted": "accepted", "supplemented": "accepted"},
    "reject": {"submitted": "rejected", "supplemented": "rejected", "supplement_requested": "rejected"},
    "request_supplement": {"submitted": "supplement_requested", "supplemented": "supplement_requested",
                           "accepted": "supplement_requested"},
    "approve": {"accepted": "approved"},
    "deny": {"accepted": "denied"},
    "complete": {"approved": "completed"},
    "ship": {"completed": "shipped"},
    "deliver": {"completed": "delivered", "shipped": "delivered"},
}
CITIZEN_MOVES: dict[str, dict[str, str]] = {
    "supplement": {"supplement_requested": "supplemented"},
    "withdraw": {s: "withdrawn" for s in ("submitted", "supplement_requested", "supplemented", "accepted")},
}
STAFF_ACTIONS = tuple(STAFF_MOVES)
UNDECIDED = ("submitted", "supplement_requested", "supplemented", "accepted")
CLOCK_STOPPED = ("approved", "denied", "rejected", "withdrawn", "completed", "shipped", "delivered")
NEGATIVE = ("rejected", "denied", "withdrawn")
DONE = ("completed", "shipped", "delivered")
# How far a positive case has come, for a bundle's parent: it is as far as its slowest sub-case.
_PROGRESS = ("submitted", "supplemented", "accepted", "approved", "completed", "shipped", "delivered")


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, action: str, status: str):
        super().__init__(f"当前状态（{status}）不允许执行 {action}")


def next_status(moves: dict[str, dict[str, str]], action: str, status: str) -> str:
    """Where `action` takes a case in `status`; 409 invalid_transition when the workflow does not allow it."""
    target = moves.get(action, {}).get(status)
    if target is None:
        raise InvalidTransition(action, status)
    return target


def parent_status(children: list[str]) -> str:
    """A bundle's status from its sub-cases: a supplement owed shows first, then the slowest live case."""
    if "supplement_requested" in children:
        return "supplement_requested"
    live = [s for s in children if s not in NEGATIVE]
    if not live:
        return children[0] if len(set(children)) == 1 else "denied"
    return min(live, key=_PROGRESS.index)
