"""Where a message's `ref` (`{"kind", "id"}`) leads: the route that opens each kind, as data.

Every kind a citizen's message can carry has a row here; a new kind of message adds its row (and
tests/notifications/test_refs.py follows each row for the message's owner and for someone else).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RefRoute:
    """The route that opens a ref of one kind."""

    path: str  # with `{id}` where the ref's id goes
    public: bool = False  # the same page for everyone, no login (else only its owner reads it; anyone else gets 404)

    def url(self, ref_id: str) -> str:
        """The route's path for this ref's id."""
        return self.path.format(id=ref_id)


CITIZEN_REFS: dict[str, RefRoute] = {
    "application": RefRoute("/api/v1/applications/{id}"),
    "certificate": RefRoute("/api/v1/certificates/{id}"),
    "code": RefRoute("/api/v1/codes/holders/{id}"),  # the id is the holder's citizen id
    "grant": RefRoute("/api/v1/grants/{id}"),
    "delegation": RefRoute("/api/v1/delegations/{id}"),  # its principal and the relative it names
    "policy": RefRoute("/api/v1/policies/{id}", public=True),
}


def route_for(kind: str) -> RefRoute:
    """The route of a ref kind a citizen's message carries; KeyError for a kind without a row."""
    return CITIZEN_REFS[kind]
