"""partitioned_growth_tables: outbox_delivery, policy_reach and inbox_message hash-partitioned by their recipient key,
audit_log range-partitioned by Beijing month (PostgreSQL); a partial index for content retention (both dialects).

Written by hand (aerich sees no model change: Tortoise keeps `id` as the primary key). On PostgreSQL each table is
converted in this one transaction: rename, create the partitioned table LIKE the old one, copy, drop, then the keys
and indexes under their old names (docs/scale.md says why each key).
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True
HASH_PARTITIONS = 16  # a power of two: a partition splits later by doubling the modulus, one remainder at a time

# table -> (partition key, unique constraints or indexes beyond the primary key, plain indexes)
HASHED = {
    "outbox_delivery": ("dedupe_key", [
        'ALTER TABLE "outbox_delivery" ADD CONSTRAINT "outbox_delivery_dedupe_key_key" UNIQUE ("dedupe_key")',
    ], {
        "idx_outbox_deli_campaig_c53e23": '"campaign_id", "status", "channel"',
        "idx_outbox_deli_citizen_c93649": '"citizen_id"',
        "idx_outbox_deli_person__a4689b": '"person_bidx", "sent_at"',
        "idx_outbox_deli_status_1710a7": '"status", "lease_until"',
    }),
    "policy_reach": ("person_bidx", [
        'CREATE UNIQUE INDEX "uid_policy_reac_family__21f9bd" ON "policy_reach" ("family_id", "person_bidx")',
    ], {
        "idx_policy_reac_campaig_7723a2": '"campaign_id"',
        "idx_policy_reac_person__375fd9": '"person_bidx"',
        "idx_policy_reac_policy__6738bb": '"policy_id"',
    }),
    "inbox_message": ("citizen_id", [], {
        "idx_inbox_messa_citizen_2c8a89": '"citizen_id", "created_at"',
    }),
}
AUDIT_INDEXES = {
    "idx_audit_log_action_286eba": '"action"',
    "idx_audit_log_actor_i_3f2ecd": '"actor_id"',
    "idx_audit_log_created_277f5d": '"created_at"',
    "idx_audit_log_on_beha_b8243c": '"on_behalf_of"',
    "idx_audit_log_target__71654c": '"target_id"',
}
# Content retention (notifications/retention.py) finds rows whose payload is still there; erased rows leave the index.
RETENTION_INDEX = ('CREATE INDEX IF NOT EXISTS "idx_outbox_deli_content_retention" ON "outbox_delivery" ("created_at") '
                   "WHERE payload IS NOT NULL")


def _indexes(table: str, indexes: dict) -> list[str]:
    return [f'CREATE INDEX "{name}" ON "{table}" ({columns})' for name, columns in indexes.items()]


def _rebuilt(table: str, partition_by: str, primary_key: str, keys: list[str], indexes: dict) -> list[str]:
    """Replace `table` by a copy (partitioned when `partition_by`), keys and indexes made after the rows are in."""
    return [
        f'ALTER TABLE "{table}" RENAME TO "{table}__old"',
        f'CREATE TABLE "{table}" (LIKE "{table}__old" INCLUDING DEFAULTS){partition_by}',
        *([f'CREATE TABLE "{table}_h{r:02d}" PARTITION OF "{table}" '
           f"FOR VALUES WITH (MODULUS {HASH_PARTITIONS}, REMAINDER {r})" for r in range(HASH_PARTITIONS)]
          if "HASH" in partition_by else []),
        *([f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT', _AUDIT_MONTHS] if "RANGE" in partition_by
          else []),
        f'INSERT INTO "{table}" SELECT * FROM "{table}__old"',
        f'DROP TABLE "{table}__old" CASCADE',
        f'ALTER TABLE "{table}" ADD PRIMARY KEY ({primary_key})',
        *keys,
        *_indexes(table, indexes),
    ]


# One partition per Beijing month from the oldest entry's month through two months ahead (the cron job in
# api/core/jobs.py keeps them ahead from then on; api/core/partitions.py names them the same way).
_AUDIT_MONTHS = """DO $$
DECLARE
    m date := date_trunc('month', LEAST(COALESCE((SELECT min(created_at) FROM "audit_log__old"), now()), now())
                                  AT TIME ZONE 'Asia/Shanghai')::date;
    last date := (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '2 month')::date;
BEGIN
    WHILE m <= last LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF "audit_log" FOR VALUES FROM (%L) TO (%L)',
                       'audit_log_p' || to_char(m, 'YYYYMM'), m::timestamp AT TIME ZONE 'Asia/Shanghai',
                       (m + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai');
        m := (m + interval '1 month')::date;
    END LOOP;
END $$"""


def _postgres_up() -> str:
    statements = []
    for table, (key, keys, indexes) in HASHED.items():
        statements += _rebuilt(table, f' PARTITION BY HASH ("{key}")', f'"id", "{key}"', keys, indexes)
    statements += _rebuilt("audit_log", ' PARTITION BY RANGE ("created_at")', '"id", "created_at"', [],
                           AUDIT_INDEXES)
    statements.append(RETENTION_INDEX)
    return ";\n".join(statements) + ";"


def _postgres_down() -> str:
    statements = ['DROP INDEX IF EXISTS "idx_outbox_deli_content_retention"']
    for table, (_key, keys, indexes) in HASHED.items():
        statements += _rebuilt(table, "", '"id"', keys, indexes)
    statements += _rebuilt("audit_log", "", '"id"', [], AUDIT_INDEXES)
    return ";\n".join(statements) + ";"


UPGRADE = {
    "sqlite": RETENTION_INDEX + ";",
    "postgres": _postgres_up(),
}

DOWNGRADE = {
    "sqlite": 'DROP INDEX IF EXISTS "idx_outbox_deli_content_retention";',
    "postgres": _postgres_down(),
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    """The SQL that applies this migration on `db`'s dialect."""
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    """The SQL that reverts this migration on `db`'s dialect."""
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztXXtz2za2/yoY/5NkRsnY8itJd3bGSdPbtGncibO3ezfeYSESsrCmCC5A2tFu+90vAJISHyBFKCRNwZjJODaJA0q/Ax6cN/57sCQe8tmLi9jD0Qdyc/Aa/PcggEvEf6ncm4ADGIabO+JCBGe+HAzFKMdPh81YRKEb8Rtz6DPEL3mIuRSHESaBGH4ZIAC9JQ4AH8avAUJBiCgjAfSfezCCgCLovQb3CwKewsADcz6A/7F8NuH/wUj8RMEEzClZil8peiEe7BGXPxkHNz0+Iw7wv2PkROQGRfwif9KXf/LLOPDQV8SyP8NbZ46R7xUQxZ6YQF53olUor71dQPqDHCk+/8xxiR8vg83ocBUtSLAezr+euHqDAkRhhLwcxEHs+yk7skvJZ+UXIhqj9Yf0Nhc8NIexLxh18Jd5HCQ4wRC/cAn/uukK+IsPlzMP/vWv6UfMETnOx8vPztW7z45zUOGy+EAlpqSXXBKIFYKDiEmAlvCr46PgJlrwP08O/0yeswEqGSUe+L8Xn97+ePHp6cnhM/FAwpdZsgA/pnem8tafcgrO42QSyZYNH1zOeI6dA6MqP77ndyK8RGqeFClLvPFS0hfZL7twKrvQwKoM1z44IV6Jy8Bfpc9t4MTn97+8u/p88cuv4nFLxv7tS/guPr8Td6by6qp09elZiWvrScBv7z//CMSf4B+XH99JdAmLbqh84mbc538ciM8E44g4Abl3oJeDKLuawchHbpjOhQChCa80XsIiVTcvY5XFGyk5BI8Lb9vRWYu37ajMt83bJm79qQBaT9blafoCedD3qBeJtsGY4zNDC+jPHTLXwblMtxPWKZCPBOpEedBczCmFeUv57KQFvmcntfiKW0V8I0i5JqUtmEtkPS3kBxTMx9MWSB9Pa5EWt5RI60nmApEVF1vFBUX8WzJdlItU5i3m7sUGDrVsqdDi2g5XD0UQ+1Vsf7q6/KjGdkNRtoewG4E/gI9Z1JeanLNaZzH2IxywF+KxvZmqDXALhAq2UAbz018u/l7mwNsPl2/KRo6Y4A1nh/AfzG9zlqu4MIPu7T2knlO5Q6akbmz11nK6LF+BAbyR8IpvLL5fava/99AyJBEK3NUn5BJa9GXUDpo0uYnwZrhDN+O3+os+LxCYY8oiAAN2jyiICIAgscZBKjwn/JfQhyuUeHIiTsL4hwW3aAWEe2dGvFXVS9TpzArf0JcD5pJER+HDD/5pfUVj3L9N8RUNuxWZ6yxav7NtX8A1gYEuoldtXESv6l1EryouIiEJNcBNhxsI7dH0ZRv32/Rlvf9N3CuiK7YjZwHZQgfjApGBSHevKbMIRjGrYny1hL7/PohqBMWaqgQy/9j7CPKN+BDPj6fnZy/5XfkZxR/nDWhf/XLx4cP7j58rljML+eQKsVtve+Rphrc+esT1EdkZb3GE/4OCA4V1kd1qtCnc3KBWgeckCDwBC3KP7rjGzz/ZCnD9PuLK/RJA1yUx54KIDrsLoewv1bHl3aax4WNrEliTYA9NAvG/gwK3yvPP6GvNZp+nMcH52MTOd3//3Lwrrbn54fLj/2TDy1tVUSUIOWLaoBeILOq7oj7D3led/aZI1Qnu27edPTYfsOcE8XKGqO76rhDaNa6/xjcg6q7zKqVd69vWOmQspjBwEX/IHVJEl5ptZgX5cMbzYV+Yd2k5Q9+Ruga3QzAn3EU3rZ2kAzV1j4TNiLTSDJNGtTQOvR2NkSKlNUZGzHb56TXcNflwvo9uoECOiYArwndI4UV4k87yw8+fkA9rstdSc/779Yx7++Jvrm5WhhqyG46XIvevN7zG9gq1AizzeTmZz+vbAPs1ne4imc0k1Pp0o+bWmcKTWlyF9c5Urzhuqz/1AqTu1ycMcIG1IBQzSS4zJUSJjWD3HRLFNwvkh2mChRuBexwtcAAYWSIgo6cMPL2OT9Bseh2fHrsz8Ts65r9PX6FnVQ/skA+2Plvrs7Vq0sjUpFY1P5wVkbOTF1FBakRUfGhHSx5HXVeLitaWVLTITJC7WhXp+jj6hmIcObzieXudw9smUaQhm6wuSaRHmXMQosATsA2y6LsvO0RfQ8yZsMMOX6Q0cIffkx29lb+L25go3E2TK5Fav+aY+UzRHbnd0ZGdp7RcHjOXPeT6ONiJzSVSy+cx8znR5DV7AuRoTAhx9115GvKnuziEvibOZTojzNw+wK4EYBTYV4H/gVCEb4Kf0UrC/55/TBHKrvd/55Je9wz0Or83v0zh/do7WllxHAPhd46ShXpx9fbi+3cHVfkxKLYjEx5toc0LTTWsD5Pk/T1mcIZ9HDXUklbGTBojFevRWpWkF4CSe0DmsopzMweg6AZz2pWIBZzNXs6u4/PTGZJxAXgdv5y5R88mADLAPwe+QxR5YLbazOHzv5N8cPYEzJEnVhZ/oCpsMfTjbfBiLzaXSUPw4sGT1Xbgzx67T9FX/jDdeEGByAR1dfCMzGVIqK6NUCAyAfW+jYQUMGE5V3GuTcAsUe2UfDk2oJP0y+nRyfnJy+Ozk3UO5vpKUyJmNQczgWgnT0aJ1EAHtMEhZpt/aRrX6/Iv81x3EY3wHLucGXyIrq6gpjbC7zK01pCzAiVwGrqDgtQIFvQdaM3hVlPN0QrzulIOE0Bv09SjvqVHpaEHZixu2GJqtIo8UdPusn+6WwO6YnMYT2uDHxH0o8VbPk+916syZtLk9VrI0Y4rPtrObi/kIzeiJMAuSOYDYr6CD+r89Pj0Oj6dnR7yn4dn4nc0OxcJsmd1nqhsKrJc8rW33fs15KewTrA9sVStE8w6wfZjp7FOMOsEs04w6wQz3R1inWCPkettnGB5W0TfCaamNsIZMITWMBIL970U2z+R2YGqOfj65qSxKXiysf4rHbfdlg1AHPoEesKShBuDUZgODEVghjhzQLahABxIw1B83xtK4sCbyBJQgCMGQkrEC8FkG29EKaGi1TenU9iuQz3V2qp7olDaatPHsx+20YJSSaDlD9+QGLHz9X2E0Z6U0vGhMfKGkWbdB3jm2EeOZov2PI15LojpYZstg4+qRVneKx3HRSLoO5TcK9ZzrROiSGR9EFUfBFeuXK5bqdoc1aJaoDGmtVx3bp2AIaHU6jjLciQW0DKgqddDA88chYWz2v/wX8jVwzNPYgEtAyptUq0GEhsK20Ci2b+zQwMJCa6ONrYmsKpYK1Uss7pnWjpvkcpA+637yBu3xnaMDxUpbbX3eOICVUfIHAeYLXZic4nU8nlsfB5V3OGT1OJqWl6Wh0xaxCBoYXTLrDoYpG5/4GEPBCQC9xRH6LX09QvHCBA5AxMZD+BbBhMe8MCTd8V4mZoElpDdIg88DQjgKyZCQSRCCJypkCq7Xw73YOWhpv8iszThROZD2GNNR7nx1kcoNvxry4sNhdV0Wmg6mslF35RVNDpsO7fvhezSWawbCgMX6/T0tI0JdHpabwKJe3UHoiQbgp6YrtKaZ3ketTqqteGk1pfKJjIPoz99IPfvA5csUX1hQnlIo/7kc80Ry9G7lyW4+A77AM7nEFMG+IzPkxkLJQEn8xPRFmPueRNwHZ9Pz19dx6dn80PxV3Lv5Xz2qlZl6utRNmljT3ZoW2BgCwxGtMXYAoOH39htgcHeWAK2wOBxptbZAgPTuN6mwEA0yLghVC8ol6Mx0PbvPtuP4bRjZvWtqonEYXWLTdtUYBjTvXw+msJ0VxyhVm+6l49va2u5/4b4WxgBEqIAe+KYrQsfh3AFYoaoiC9wPUYEFsSpW9lZXSqrfNdplGGJ7Luk3zjVWLMvGPO/y5GKLwfppE5xcDLQGuwPrlXbKovHoxS0UQXzr3jbdzBPY5WCFkrBWna2RXgjbM2Dt3vfV2FH2mEdZ3QGgn00bRVmmTbEWaaVBlr8q5JAD+ocSU8er4dz5vaCsQ9Z5PjkBgc7bMgVYpv4NR67vLoHF1Xm1qZ5UdE2T3b1fsyIuzm+ogi6PWREPL9wEkZxtY3pLIxfSRgnh6DXB98rYyaNJvx69O7R980cxcMopsfn1/G5e+Jlh1GcHqPjmuZ7YTzzsQsYcmMqTrXwUAhptESBqp/CwA+3Efq9kH4TG6Efi5ViI/Tb9DYbod8nxcpG6G2E3rplbYTecr2zCP1Gr9JUEyqERrgDhtYVxP+6yOdpLOg7gM7h8ZBWOf6GwjzVrOOjLmaYRgsnyyBpm5JSpHpseSmFyBL/5toioUBkwhIdWiQkAOo6JYpUxkWZundILOJbEjvCQahXDVimMw/qNkjXA12J/nueaE+rK0ZKZFaQ7FUn50+p3/0tobS+qYJi1KQpMpF58/kyKRC0iE2kAZwnDFDEFwOLRA5gOo3IE3TJMhQRnWIrZhk2OD0/5D+Pz9B1fI4g//3V6dGrZxPAEAqycAH0lqJRlCIuMdyDbUxiTxyHNgnx8fg92ni7xpwA8XBqSPduettSu/eW2vMMxbYArwlMUPBKC7iNN+Ok3p1xUvFnhMTH7kpTThSIDES5czGx5GYH12p1DZYSmRHiYmjXx5505BflRcOonN0n41MU+ooayPp1vSYwQXYMvaC5kkj8u500+hKpzWEeT+SyqsKvmaXX9LdEZsIbNkgS88M4ta6Ii6H/PmAxFfnQ9fm26oGTJtcWkyQOzmh2T71NZgLrmYpnYL86ll2ojmDSi+o6fnV2JjpRHbvT5Mqz1/lZ1vmv8jTtrN9nsuluycId9nNY59devMmTBueXTci1CbmjUkJsQu4+KQk2Idcm5NoQhU3ItVzvsGXWTodx21O4H4sndDAVoXs/qLRLuVzS7lhWIXxsGaIj8cZ8pjBgOKr3whQHTJq8L1EydHenSzoBoNhDz9PWZ8X23+j0pWjxfXZ2HZ+/PDziv3vTs6Qo+VneoRF4nDtbXCt9PM06UPbEyrEOFOtA2Y/9wjpQrAPFOlCsA8V0U9o6UB4j19s4UISCnnVC1tUUVLRGWPYP4EqRZo6mM2VNYwTofbhTRuIIuBAlMA39ywv3J01uAFlMo9u5nC+V+RwskTCfXnMr3UdskmsXxsDTOaHcOr/D6B5RJvqNidGErp4vRDJDCBm7J/yXBWSLCfCJe/ucxMoeZ30+ytr/e6Kk2+qhx6NjtNIsGaLyd413ME9jPT1bPT2Z3HSE3NTR4SqERugSgydRi42uCvtPV5cfa1TnjKAsybAbgT+Aj1lvByHn9ptZjP1IFOeK5/W2yTQwQwDUzIwy7iXpJCYoM4OrG5EWM9YElhmdM2MOsc+3bdnrXMGUWkddhW64k8IP+9oDOnbUCeWYQ8QNAezrqlNlWlu7MR4fTVWB8jATICuMmDeEbyQwqJFrObISg2ecrq/3Z31lWK6+ubz8UGDom/flnftvv7x59+npkeQkH4ST9uiKN8ue7WD0uzUSt9BvhN6+hdwq8CD9PwTpgcI1VBkzaXIPcU3+1nHT4c4qG9/CRyTGZskbYhbO/uceFNUsyWQABkknF+AT6CEPPBUjryK+ZsFbwnUY7D9hICARdtGz1wBHgJscnJIBd4EDxNDzbKYnTOE3GvLx14F4GpsA6YkKfegiJh8sNbDn/BkkQOsaIc4O+em+1QWVMaOl/pMN70bteVjbtxO9p96pxEhMVQlyDb7zNYUR1m7RuTA9bOPG46Nq3QvyXrkxyUrPpErHD29RPcy214vtlIg6zYLdApGBy7v7TJIUsR00vTyhgS5pq+Z11Glwzr/I4jO5RTU9BnP3G9U7mozk+kc2dKtmdxmIsmZJBiTZdwDysUvsrwBmUtORtgpgiDFOMxHBOSJOIL5fcNOSDxD3SRwl2lLMUDXs19MzbLxvT0SpjffZeF9+Q5UyoCYSVf8WFqlszG9rzC+RsJp5xgUi25Jxu3bI4tm/kBslIGkAXaYzUBXvvuQtA01vTRep7KLevqjR1xBzeb/DvlykNHBf3pN9uFXciGvSO+VzM9vTbS/4m5pRO7Xuy1NaLo+NyyNxXbyJA09+4YrTIr0zaXJXzDZjtvopREXw4aH4OT8TP1/OXgOG7viS8wGO0JKBOSXL9aV8SvEMLfgqk26GOaFLWTws/ljy1UpFazbhbq56LQZ54jf4MFwOqI4WlI03znLqqgd4vZtCNzm128TUcen00zY9wfmoeq1+WukKnv9kFZjrc1NLZEagPXRmKpc6emt7TWAE3H0brLdoJbKntWKjeRqbcdp51FTs3Y7YDLWYUqSybOmcLba8uF5I7WcoQGG8yE8/Etvl+7XCfqCwX3J3G20YrziuRSbdhgJECxiBBRRWEEttiqfCVrhfEIbSWsmkFlLkmmEKXMgQe6YqrOxoVmuPWHtk7NKwh7DZSETSFaJ32EXv+Turkkn5241CiSUDHZyNbFMEntBIgQHucbSQ6a0BFCNE+3rRToB/wScMIB+ltdrrBFgucIQbZAV8/p//GkjfySt56OP5dXx65s34z5NDVym6BnyyFW9WvO2VeOvJ3RLqHSGYjjcvctr98YG6aQA2/K/hTRmfs+rhlq71VT0Cp4iPbqDvzCDDCq7UO8ZLZEbIlqEd4wmG6rqWqyX0/drSrCLlcHXp/ZdoHU/Pz9bVWeKPpsKsq18uPnyo1s6GlCyxSCDZBdoKsUW3iC4JROtSR2hsWsm1ZTojREbfG6ZLCWMOX5N36g78jcX3VWJbgq9Tgi/MfS1VZUNhFZXOFRXZdZBlJz9KqHVle80Uw0n46fjF+xypopYN2fxIGa80Qpz34xnxsfAmOkvEAdMzhVS0VtJ0L2nSHDot3hSILFM6Z4rIcnSYu0BLqMOWEtk4GCMeawxjbFZF/XZisyp6CGFehKGPXZgyo9rJOnd70tjIujSwVSG7SGR4AS5Aklj+hIHcLKLSHIIQUpEikaRCuAvse/xvwC/K/GxBD0JEc9kU3x2UFlNvD7oOIGD8GX4SCa1OuiaUMdKArKd9IRodzeeA4yNq5WU6R5YFcof4hxFmfcv455cDF0f4PyjIquXk90j/yBVdc7Iv68DQ5uA+5kNH/IWKAzz+0OwwOT5V4V5+UluwP4pCQFuw/3j2kzYF+0WR0DoDoihIzDNBeykmX+Io0m7qVKazYLc5ISxL6dbaWvJE5p3D1n1CRKIiaeNcIrNIb0faFja0YsPQJniEI18vaSUjMFCK738+23ahYlI62xgPcX84fKdtks2n9cnm02qPJuEB1TxWL09jhIgYOrXHhhBGuE2Wwmd68rxCasR70Xf+yho36HmcM0xXENXRm6CsDy2TXEgpRooO8A3+lQ2JCYj3npnPR4lzA5yAaGnjRTLzkO6+8SSLwzCp1NLZYItU37TDjgzvobfSNG4URA5FN8qeKvXLXUVr4GbaZi+t30orO6msthZCQh9wBanFexveFLkI3+0GuIrWIr4NcZvr/HC5zrZkos+c2nxuQjWgXWP55GiaQtlG6SoiEl3W9NbpHhoCuEA0mJPwQDxF6PJ9OUz6ttZDKPvuqja7+oVaIHrMKxW6Lgp3y1wpkdpmuOPJfKymqnjIxbud1lSktFweM5fvEGVKtb9WDcpR2JOiyyqQzRKvh3o/s/rqssSLCkUutbet8lYgMs8Z2k2WWSUXvwx6FfEfCEX4JvgZrSTu7wPR9kppK6sz6fcL9D+zZZVd3XxECu/X+d/F1cYx4N8cJVby24urtxffcy2vvswh57xIE+UVbouU8oefPyF/DeYjQvzPPotBvqdwru6uKW9MWhaAON56eItGdgvoz5/Pse8jL19BMQFzHGC24Fd9EcpPuvcjLOogQMgvyU79hILZSh4mzdmrOBSg++ntKYZ7IdInwBZFPB71ad+LIkw6i8ym6VdRtmn6+4s0f1wklFrNZKsSmRERy6GTrKyfw7SNus7PMZJq+E/cNpCgVw91T+60NoHoZnyLs9JOX517/KeH0HX8cuaevJbF46LgvGCycKuKX3LJMuRmNb+iOgTtW6ZqVW5uy7/HpntZS+fxCNA2lk5eDum9iVVK49rhd2/wjNmw3HvXfCF7RcjqKsbN+VRrIptHVbZrluqU7yabZlmT772XluMQ5sxYFFvENZ55Q6On4oBGNZdWhrbRcNcK6XV8dnoufx6/ep00O8pOwlrGLAIwYPdCWwUz6IFEjZZOeD4QisxrpNR6O55eoQl/OUhGpxJbFiX/07r+x7hlWIXYKsSF8oP8i9u67iBPZPWzFvrZ+OwOwwG3B0M9rk4a1cV7QMIkTWYfM+QfuJJjbNJCL0He9QnbTZHJE9q06fEEQhK9ZSQG41XEzQDvByy/dPVk083dSePBpnIcf2Y6cHs6WADi0CfQQx4QVK8Bjhi3zyLEgGheAVDg0pWo7gA4kOeOikfwrzDhf2AGKLkHDK5Y2siXD1iJJr6KxLAeH2RTxPZEk7J2orUTC6dx3XNOaJoueRrz9OrubZZM6mp2zC2RWfOwTbxkAaenZ1omzJrCQIB7aJyD/6MwXupDUelwkyJRndW0ZflyEhWNJVumM3Dh9uHckLqsc4v02pYXyQyEurN+tyMx4z5zHVMEtd4FEV0dKCy54oBJ2/S2KCVrZ9WJI1iWhBtVZA6gPO/ktbCbJvwHEpU4ovTmXpx/EhH5/wTAwOO/rap227dNZS2zPVFi6i2zfQgymKSv79B/w1q+e2f5cvFNqLbuVaQyUR3oPOaRQKYpuHI0BoLcg8xys9QkDYjNbS3Yvf0g1CxHP0JaIjMhh7DvAwe4zNbHuUBk4ILuHuaAqMLQ9Zmw2XgTlvAjSoN9H8zI118QY/BGGdcs3J80GcNYjHSWuaFtYps4eM6nBCkZmBORiJpWAihjlFsJ9E8ItQVco9NcbBzSWmO2ougBDAV71lvfZ73NiKcIMdQrVtl4I/Adul9CREKsaFLRZCikBEbA3bfVS9HcueXfTQfhPI0JxsIQGGvWaawpzMO3+x1PKE07aJM5MpsybFOGlcb1R7IpC70Mo8tY2UpSMWrSZGgHufEOCSOHxK1bS7oLGATIB0/vkZvEgn0cwtUEsCV7BqQtLXdA8DQkPnb5jRlfuHMcgRcvXjzbWNrAI4gB/knAPQwiEMZswf9W9V8Z6JnK8tSi/p9tOnfQ5++YLVQdpVy2hr81/K3h/wBqkK4a/00q/LjBbWP015v8FYM/2W80oF0TGIhtN/bRSPQ7rqrNyNfv00OEVbpdaUSjXkfkWMfLD26XSJjGQiKSdbZjXCGQ/9BG+xIVW8kjnr2W5VvJAgG3aCUquULGNS2KIsr1L65yUcgWiW7GEGeoV9HrhnrwdeDCZQjxTZCkMjIUeKJDCVcPo3vsou/SUjQR3OXTcBXIY2BB7jlgNLnFCcANadurnGuN6fPS3WMTN06/0QGn+JK77CPIkBMHEU5vJTg4M+x9lROIZGwbWxrNnmdVTKtiFntGeHGonflfpDKuKeD0sM3bxkfVp5QcVvsCFiVra22+SGadmtu1+dIW1BbpEpl5SHdf8fZgBup2nE1Kus90Lx2MNyQGGlLdJ2LbWGmvcbwQrkTBdhXgn64uP9aI4w1JWaXEbgT+AD5mbSplRyaSG5AVWBTUxkoSQDneX9IHxQTlJIA9aVzFh8Yo+yx7Jz24fcD0Kgw2FObpGSdtfIgn9U7Ek4oXEUYRWoaRYhk3d3vO0xlzbmwX3Z59yCIHUUqozqItUpm3cHtJeXN9iJe6GnKOxjyYu1eQ817ICszNzqsSqU1nGVs6S6EuB30V3mQp1HdwVCrILb/HzG8ZGdntvS6RWj6Pmc8hJXfYQ9ShaK7lsivRmbdX9tClKo3Iab5POTL7Lo3tXRpJSsBVBOdzkdHpogNlm9jN7Ulzn1g+0Ak2I1skdyaj05LIzSkfTxiQs4GnSXsgECAoloKIsofcnJF9XrOzPmTOpSqLs9vJbduhPTEwbLDcBsvtAQvDRAhsIoLSU91GkvFRDb5qW+Vqq1zHokv3UeVqyzBtGeY++q/HYrPFszwkVaMtf3/SaLWVR2612n4TnVk3JW7JWYzIk81av76giPOeRekHmKG0EQ94yq2rC1lF94Q9kzaZyLgWTl2fL6gky1rwT5zxyGdiIQq8qlE38LNblOiJKfiMSwlqOqO4ZYv1Rvj2TpqMQ1u2NVCiZ+6Nae0yztEYCHIPmXE5UaRjNBTJDIS6e9c830tkK3WHoiV/qPgoFcRrc13UxMZkvXR2soRPghsnQiqp8YYQH8GgJlEgT1eCdcYJ+8J1fWVYW+3N5eWHgq325n3ZGPvbL2/ecWEiFzgfhCOkRnwmUpEVwqMR7g2RxVoD6zj0dnRMFymtY3osjmlF0E9++pHYj28RTTuyKGN++duTJuvRLQ1sVfybIwKpyfYaeMjF4hxHbt+RQETtROUsRTeYz7gCQmufgNlK1t3eYcStvomI11E0jxlSGIo9PqdNQW4WQ8CMxbZN65jsEBsdfDxCeN+7tZhUDZcKYO0zI8t0BpqkPbTE5VNwDD29gGGeyECY+4h+28yC3moPY8olvdYCzpHY5dvqAMnxFRk+ZNbGUPWF9SkFZtUXDp1TwBDFUKvefkNhXBJS9+LijoM1X2mrFSUyAyVz95JjDt2IOShQ9DaoFx4FIis/9OVH6M11MxlzJCYg3neobOMOq2Dc7GEpENpKlvE4tasOFfQ1xHy6HZhcpLRcHjOXKbojtzu9ykVKy+Uxczmx9xzRlupmJ2YrJ7AO8hEvglFFKfl/PxLfk0G2apByc3fSGKPkl5zFZmCbMyfS/NL7BQELyABkXGJlBzfy6ZIOvkG8nCEKcMCwhwASHZDlXYC9CYCBx8llhFBeZGAJV2CGgDpeOdAzOy5ifINvajOblKERRSZTKr7Ha1YnmUyvptPj4/Pp4fHZy9OT8/PTl4frlKbqrabcpjfv/0ckgBRe5ywjxAYnH4/s3a/g5Ig8W92Hy8boCK++QvJ8+zt0MAjI3fu0UlVQv+lehdA8T0svraszQ2uGuBKhcNk2bd5V2p1SkscG+oBb+R4YUSPjzp7s27WG84iMpk/89U1O2zuoMZxyI7YbT7Q4uI0BlZgkQGTe44CPAsuYRWkaJZD9vdKqOz7unsS+x22eO27QSBegxy2Z1T1cKc2k7ma2xtCoJWiDMSQWpaZOvCExTiHuo3J84M7Io7Mpe08NGY37fGzQ77saMNJY2Mhyr/ady2NS9rCHatU87G2r4JEKXjZsq2r3WZyMJ5onUBgwzPUu4YaGqVbGwA0h0med9FSYY8pVM+bCgP8JRW8FcgtwVFXrOpv1G1Q6q1T0olTUa3GCg5qA50gMVDN6qANIjSTtLgAFMgt1C6hFiG2X+l1mdTm7y7fY5a+46Kvb5eW97bs8y4a1qtIVoyd8V5ZdcAkFcSgOdhIhaVExyzdfMp/Le5m0mADouijki3NrZW6HcytbNJUE2PrPbP8oN2f6IneWwFbqjkm21msOdlsbLjTqcjz0VLSUwEB4p20Soqf1CdHT6lGcwxsdI4v69O3KTBK/lBg3OewLZD3FPk113OdaY8WRS5Za8iNHYqAEsYcY7pv8YCSmrt4OuKYwcAG36btd33W70nO7opnvos59q1do1Cu6+yIs6XKI7rFqVTc2dysS2gZvGg3ecuZlBfMtyT8FSusjGp2PqLgZc7vb2zGuWyA1kNGG5WmPyTeIb0Tn2J/R6qDOQ7gZMdnuJ0wGZ4XNLfK9AvDOm56eHr0CnCaJyolJWFqFMkPRPUIB+D0gUZpS+rssVpEX4Jzv5L9PQBjPfMwWyEuzuH5PLyTHQf6uSAYb7LHfEFa81VNqbg0NJ3blOrEVMlbyFttE8ZfV1W7bUKAy0Ezr3moIKb4TjeE5ZrqNSRSkJthpQ7cn2exiugKuSNmHgHvQnWZPxFkrC2KtmezC4zWhgXuYSUwuaJi6jK4QW2aPjtkjsQ0/px7SA4VVuL432WoPRvmhLYp/EpcVTbuqy/O5sjO3ZHRY2mCb85i/E4kgouP6ArIFIHN5/jJDXCuPRPLnLQoVGaO9PcUe87wnOQrWErSWYEFzgnqB5my8gdbfUaty8qOGcvKjajm5zQTqNRNobL3EjXJeJPu8I7Z+rRVcJLNQt4A620L1TnkoUhkIdPeZmR5m4pvvouaUSG0rCWs/qmOLcBlCfKOuO8juTRrtx/yoVmUHNBbZ/9xO28TlQuJjdwXIHbf2RAFgSMLYl+0oXoMljNzFBNxQGEQTwBefWIdMeXZ057NbU3FPhKY1Fa2pWPC/yldeM92wQGTe8SePtquelOreMAJt2q7NW0OXNwXIN3pWeUYwIMRyGx0G4e4T7OX6cHS9S0UqAw2a7i1HyBwyV2/DaozXBE277x4C3QCs2D1LsMmXCym2straphyFQV0dOztqXmr7WoDmKCygVUA3O2xLPDcEFs4qnIhSokgPqd+L1gQmZF0N0DjXujAHshBgGFJyp410icy8Vd0j0vqOjhKpdRaPzVlcMgfpbv6sIqXl8pi5nCrwO3C5SGm5PGYuz3EgIxQ7sLlEavk8Nj6PJMD3q/RpHyjCe+mdSVNwL9yMaZEVmox+LfMuI/Q1mshoG419lFbuwRWTh19hmZA5JzQ50GpB7sUlrl1zycUE0VKVDtr19Da4tydKrg3u2eBeoaUIjnwtV/2awECb/WjapmELH1UfEJlWmraweLmEVMtkz5EYiPLpUZu2Q3xULcryXhHlGfEUENdXWWbjjcB36NpKsQXqrOdsvBFg996iLFYJ5J+uLj+qwc3Gl/dd7EbgD+Bj1iYIMDaQG0AVSDSv6PLiLe2aYoLyip5xeOZYofnU454j+Sbo98dW7AV5cU5bkNpKbaHP09hl/w3gc2vVXzkxVZTVNgYUNkTmhROmp21EOh9VHyQ7rQj1O+hjzxH9utXGlRrpItU35m2MDHS9tI0EiYYK8CYAW9V+m47gnuQXehTOo2FcKt2rbnO4xL5upmyByGbKbo/O3iHKsKqJb22GTI5ipxSZnZbyUV/wdpwgE1J0h0nMdBO8i2Tm6QHdL1ybKTPU6UKht6Mru0hpXdljcWUrQoPpp6/0CdqJ72VaGwMeD6OrQQtI3QXeMT+rSGr5PDY+jyrW/0nEuQ9qA/7J7cn2qL9D1yPbxP65uioizlmxbRJt98QRYC4Sd7MbiekAnkLfl5H8VM9lz8D9gi/YO9nvicYBAwv+CVHwHfg9Tb7/XYT0D0oLasBHXwfX8enRiXcdn58eH/Pfj8/5zxMEZ0n5MOPj1yWEv4sUBJGfkD4kSVFIP1pjDsKXknUlv50zw97XyqFmNj9hFEpcfX6CLUMdQnUerwvDKAslL4l0lnORzLwF3UOHnbSnhu65cUUy85Dufk3XVgI2HpNTXw3Y5xk5D6OAd3lEzn6487mmy62tffXn25TIXVa5NTPbm5kXiGK1hZnemTQZl3AzZptZWc/YjlO3a4MwbQ8HTbfEbzOM+txGO4m/1Ns5teGtetFeH98yQfuenp62Ssg4bUjIOFWUeOognA43EN1eut/yJ0Yo0Eqny5HYlC7NlK4H3cz+/H8Hnqu0'
