"""Mainland resident id numbers (GB 11643-1999): format, birth date and check digit."""

from __future__ import annotations

import datetime as dt
import re
import time

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
}
_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # ASCII: not the other scripts' digits \d takes


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) == 17 and first17.isascii() and first17.isdigit():
        # The weights are 2^17 ... 2^1 mod 11 (_WEIGHTS) and 13 = 2 mod 11: the digits read in base 13 give the
        # same weighted sum mod 11, computed in C (a registry import checks every row's id number).
        return _CHECK[(2 * int(first17, 13)) % 11]
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def problem(id_number: str) -> str | None:
    """Why an id number is not valid, or None when it is."""
    value = id_number.strip().upper()
    if not _SHAPE.match(value):
        return "身份证号应为 18 位，末位为数字或 X"
    if value[:2] not in _PROVINCES:
        return "身份证号的行政区划代码无效"
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if born > _today() or born.year < 1890:
        return "身份证号中的出生日期无效"
    if check_digit(value[:17]) != value[17]:
        return "身份证号校验位不正确"
    return None


_today_cache: tuple[float, dt.date] = (0.0, dt.date.min)


def _today() -> dt.date:
    """Today's date, read from the clock at most once a second (a registry import checks millions of rows)."""
    global _today_cache
    now = time.monotonic()
    if now - _today_cache[0] >= 1:
        _today_cache = (now, dt.date.today())
    return _today_cache[1]


def is_valid(id_number: str) -> bool:
    """True for a well-formed id number with a correct check digit."""
    return problem(id_number) is None


def birth_date(id_number: str) -> dt.date:
    """The birth date written in a valid id number."""
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def gender(id_number: str) -> str:
    """`男` or `女`, from the order code's parity."""
    return "男" if int(id_number[16]) % 2 else "女"
