"""Which scenes a citizen's code serves, from registry data, and what each scene's scanner may learn."""

from __future__ import annotations

from api.core import pii, rawsql

SCENES = ("service", "health", "transit", "social_security")
CARD_STATUSES = ("正常参保", "暂停参保")  # a card still exists; 终止参保 ends it

_HOLDS = (
    "EXISTS (SELECT 1 FROM health_card_record r WHERE r.id_number_bidx = c.id_number_bidx) AS health, "
    "EXISTS (SELECT 1 FROM transit_record r WHERE r.id_number_bidx = c.id_number_bidx AND r.standing = 'good') "
    "AS transit, "
    "EXISTS (SELECT 1 FROM social_insurance_record r WHERE r.id_number_bidx = c.id_number_bidx "
    "AND r.status IN (?, ?)) AS social_security"
)

# What a scan of each scene reads: the columns and the registry joined (never more than the scene needs).
_READS = {
    "service": ("c.name_enc, c.id_number_enc, c.assurance_level", ""),
    "health": ("c.name_enc, r.health_card_no_enc", "LEFT JOIN health_card_record r ON r.id_number_bidx = "
                                                   "c.id_number_bidx"),
    "transit": ("r.ride_account_enc, r.standing", "LEFT JOIN transit_record r ON r.id_number_bidx = c.id_number_bidx"),
    "social_security": ("c.name_enc, r.card_no_enc, r.status AS card_status",
                        "LEFT JOIN social_insurance_record r ON r.id_number_bidx = c.id_number_bidx"),
}


async def holder_and_scenes(*, citizen_id: str) -> tuple[int, dict | None, list[str]]:
    """The citizen's assurance level, holder row (id, status, revoked_before; None before their first code) and
    the scenes they hold."""
    rows = await rawsql.fetch(
        f"SELECT c.assurance_level, h.id AS holder_id, h.status, h.revoked_before, {_HOLDS} FROM citizen c "
        "LEFT JOIN code_holder h ON h.citizen_id = c.id WHERE c.id = ?", [*CARD_STATUSES, citizen_id])
    if not rows:
        return 0, None, []
    row = rows[0]
    held = ["service", *(s for s in SCENES[1:] if row[s])]
    holder = ({"id": row["holder_id"], "status": row["status"], "revoked_before": row["revoked_before"]}
              if row["holder_id"] is not None else None)
    return row["assurance_level"], holder, held


async def read_for_scans(scene: str, holder_ids: list[int]) -> list[dict | None]:
    """For each holder, their status and the registry fields the scene needs (None for an unknown holder)."""
    columns, join = _READS[scene]
    wanted = sorted(set(holder_ids))
    rows = await rawsql.fetch(
        f"SELECT h.id AS holder_id, h.citizen_id, h.status, h.revoked_before, {columns} FROM code_holder h "
        f"JOIN citizen c ON c.id = h.citizen_id {join} WHERE h.id IN {rawsql.in_list(wanted)}", wanted)
    found = {row["holder_id"]: row for row in rows}
    return [found.get(holder_id) for holder_id in holder_ids]


def answer(scene: str, row: dict) -> dict | None:
    """What the scene's scanner is told (None when the holder no longer holds the scene)."""
    c = pii.cipher()
    if scene == "service":
        return {"name": pii.mask_name(c.decrypt(row["name_enc"], context="citizen.name")),
                "id_number": pii.mask_id_number(c.decrypt(row["id_number_enc"], context="citizen.id_number")),
                "assurance_level": row["assurance_level"]}
    if scene == "health":
        if row["health_card_no_enc"] is None:
            return None
        return {"health_card_no": c.decrypt(row["health_card_no_enc"], context="health_card.health_card_no"),
                "name": pii.mask_name(c.decrypt(row["name_enc"], context="citizen.name"))}
    if scene == "transit":
        if row["ride_account_enc"] is None:
            return None
        good = row["standing"] == "good"
        # A gate needs the account to charge and nothing else: no name, phone or id number.
        return {"may_ride": good, "ride_account": c.decrypt(row["ride_account_enc"], context="transit.ride_account"),
                "reason": None if good else f"ride_account_{row['standing']}"}
    if row["card_no_enc"] is None or row["card_status"] not in CARD_STATUSES:
        return None
    name = pii.mask_name(c.decrypt(row["name_enc"], context="citizen.name"))
    return {"card_no": c.decrypt(row["card_no_enc"], context="social_insurance.card_no"),
            "card_status": row["card_status"], "name": name}
