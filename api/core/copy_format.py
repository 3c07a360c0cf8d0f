"""PostgreSQL's COPY text format, made where the rows are (a pool process), so the writer only passes bytes on."""

from __future__ import annotations

from collections.abc import Iterable

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def text_rows(rows: Iterable[tuple]) -> bytes:
    """Rows of values (str, int, date, datetime or None) as COPY ... (FORMAT text) data, UTF-8."""
    shown: dict = {}
    lines = []
    for row in rows:
        line = "\t".join([v if type(v) is str else NULL if v is None else _shown(v, shown) for v in row])
        # Nearly every row holds no character COPY must escape: checked on the whole line at once (its only
        # backslashes are then the NULL markers, its only tabs the separators).
        if line.count("\\") != row.count(None) or line.count("\t") != len(row) - 1 or "\n" in line or "\r" in line:
            line = "\t".join([NULL if v is None else str(v).translate(_ESCAPES) for v in row])
        lines.append(line)
    lines.append("")
    return "\n".join(lines).encode()


def _shown(value, shown: dict) -> str:
    if isinstance(value, int):  # bool too: True and 1 are one key of a dict, not one text
        return str(value)
    # A batch's dates and timestamps repeat, and str() of a timestamp costs ten of a row's text values.
    text = shown.get(value)
    if text is None:
        text = shown[value] = str(value)
    return text
