"""COPY text data made in Python reads back in PostgreSQL as the values it was made of, whatever they hold."""

from __future__ import annotations

import datetime as dt

import pytest

from api.core import copy_format, rawsql

ROWS = [
    ("plain", 1, dt.date(2020, 2, 29), dt.datetime(2026, 12, 3, 8, 0, 1, 250000, tzinfo=dt.timezone.utc), True),
    ("张三·阿依古丽", 0, None, None, False),
    ("tab\there", -7, dt.date(1940, 1, 1), dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), None),
    ("line\nbreak\r\nend", 2**40, dt.date(2020, 2, 29), None, True),
    ("back \\ slash", 9, None, None, None),
    ("\\N", None, None, None, None),  # the NULL marker's own text is a value, not a NULL
    ("", 5, None, None, None),  # an empty text is not a NULL either
    (None, 3, None, None, None),
]


def test_rows_with_nothing_to_escape_are_joined_as_they_are():
    assert copy_format.text_rows([("a", 1, None, dt.date(2020, 1, 2))]) == b"a\t1\t\\N\t2020-01-02\n"
    assert copy_format.text_rows([("a\tb", "c\\d")]) == b"a\\tb\tc\\\\d\n"
    assert copy_format.text_rows([]) == b""


async def test_postgres_reads_back_every_value(live):
    if rawsql.dialect() != "postgres":
        pytest.skip("COPY is PostgreSQL's")
    data = copy_format.text_rows(ROWS)
    async with rawsql.connection().acquire_connection() as raw:
        await raw.execute("CREATE TEMP TABLE copy_probe (t text, n bigint, d date, at timestamptz, b boolean)")
        await raw.copy_to_table("copy_probe", source=memoryview(data), columns=["t", "n", "d", "at", "b"],
                                format="text")
        back = [tuple(r) for r in await raw.fetch("SELECT t, n, d, at, b FROM copy_probe ORDER BY n NULLS FIRST")]
        await raw.execute("DROP TABLE copy_probe")
    assert back == sorted(ROWS, key=lambda r: (r[1] is not None, r[1] or 0))
