"""How people can be reached, from the registries and citizens' accounts, set-wise (a campaign's whole audience
at once)."""

from __future__ import annotations

from api.core import rawsql

PLATFORMS = ("wechat", "alipay")


def reachable(people: rawsql.Subquery) -> rawsql.Subquery:
    """Per person of `people` (a subquery with a `person_bidx` column): `person_bidx`, their citizen account
    (`citizen_id`, NULL for a registry entry alone), whether a phone number is known (`has_phone`, the
    citizen's own or the registry's), and whether they use each platform (`on_wechat`, `on_alipay`)."""
    # The registry's `has_phone` (migration 19) rather than its phone: on PostgreSQL the key index holds it, so a
    # campaign's millions of people cost no read of their scattered table rows.
    platforms = ", ".join(f"EXISTS (SELECT 1 FROM platform_account a WHERE a.citizen_id = c.id "
                          f"AND a.platform = '{platform}') AS on_{platform}" for platform in PLATFORMS)
    return rawsql.Subquery(
        "SELECT r.person_bidx, c.id AS citizen_id, "
        f"(c.phone_enc IS NOT NULL OR COALESCE(p.has_phone, FALSE)) AS has_phone, {platforms} "
        f"FROM ({people.sql}) r LEFT JOIN citizen c ON c.id_number_bidx = r.person_bidx "
        "LEFT JOIN population_record p ON p.id_number_bidx = r.person_bidx", list(people.params))
