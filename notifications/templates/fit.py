"""Fitting a value to a field type: text is cut at a clause or word boundary with an ellipsis, never mid-word;
phrases, numbers, codes and times are checked, never cut."""

from __future__ import annotations

import re

ELLIPSIS = "…"
CLAUSE_MARKS = "，。；、：！？,;:!?"
# An ASCII word or number, with the joiners that belong inside one (3.14, e-mail, 10:30, 50%, A/B): never split.
ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,'’\-_/:%][A-Za-z0-9]+)*%?")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
CHINESE_ONLY = re.compile(r"^[\u4e00-\u9fff]+$")
# A clause cut is taken when it keeps at least this share of the room; else a character cut keeps more text.
CLAUSE_MIN_SHARE = 0.5


class FieldError(ValueError):
    """A value that its field type cannot take (and cannot be cut to fit)."""


def _inside_tokens(text: str) -> set[int]:
    """Positions p where text[:p] | text[p:] would split an ASCII word or number."""
    inside: set[int] = set()
    for m in ASCII_TOKEN.finditer(text):
        inside.update(range(m.start() + 1, m.end()))
    return inside


def _trimmed(text: str, p: int) -> int:
    """Move a cut back over trailing spaces and clause marks (no "，…")."""
    while p > 0 and (text[p - 1].isspace() or text[p - 1] in CLAUSE_MARKS):
        p -= 1
    return p


def cut(text: str, limit: int) -> str | None:
    """`text` if it fits `limit` characters, else its longest boundary prefix plus `…` (within `limit`); None when
    no non-empty prefix ends at a boundary."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    if room <= 0:
        return None
    latin = CJK.search(text) is None
    inside = _inside_tokens(text)
    clause = next((p for p in range(room, 0, -1) if text[p - 1] in CLAUSE_MARKS and p not in inside), 0)
    if latin:
        # Latin text: at a space (or just after a clause mark such as "," or ";").
        word = next((p for p in range(room, 0, -1)
                     if p not in inside and (text[p].isspace() or text[p - 1] in CLAUSE_MARKS)), 0)
    else:
        # Chinese text: after a clause mark, else between any two characters that are not one ASCII word.
        word = next((p for p in range(room, 0, -1) if p not in inside), 0)
    p = clause if clause and clause >= room * CLAUSE_MIN_SHARE else word
    p = _trimmed(text, p)
    return text[:p] + ELLIPSIS if p > 0 else None


def fit(value: str, spec: dict) -> str:
    """`value` made fit for a field of this type (`spec`: rule, max, pattern); FieldError when it cannot."""
    rule, limit = spec["rule"], spec.get("max")
    value = " ".join(value.split()) if rule == "text" else value.strip()
    if not value:
        raise FieldError("empty value")
    if rule == "text":
        result = cut(value, limit)
        if result is None:
            raise FieldError(f"no word or clause boundary within {limit} characters")
        return result
    if rule == "phrase":
        if len(value) > limit or not CHINESE_ONLY.match(value):
            raise FieldError(f"a phrase is at most {limit} Chinese characters")
        return value
    if rule == "pattern":
        if (limit and len(value) > limit) or not re.match(spec["pattern"], value):
            raise FieldError(f"not a valid value of this type: {value[:40]!r}")
        return value
    raise FieldError(f"unknown rule {rule!r}")
