"""Search over the catalogue in Chinese: words are matched whole and by character pairs, so 新生儿落户 finds
出生登记 by 新生儿 and 落户 without a word segmenter."""

from __future__ import annotations

import re

_SPLIT = re.compile(r"[\s,，、;；。/]+")


def _pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def score(query: str, *, name: str, keywords: list[str], extra: str = "") -> float:
    """How well an entry matches (0: not at all); the name counts most, then keywords, then the rest."""
    terms = [t for t in _SPLIT.split(query.strip().lower()) if t]
    if not terms:
        return 1.0
    name, keys, extra = name.lower(), " ".join(keywords).lower(), extra.lower()
    total = 0.0
    for term in terms:
        if term in name:
            total += 10
        elif term in keys:
            total += 6
        elif term in extra:
            total += 3
        else:
            pairs = _pairs(term)
            if not pairs:
                return 0.0
            hits = sum(3 if p in name else 2 if p in keys else 1 if p in extra else 0 for p in pairs)
            found = sum(1 for p in pairs if p in name or p in keys or p in extra)
            if found * 2 < len(pairs):  # less than half of the term's pairs: not this entry
                return 0.0
            total += hits
    return total
