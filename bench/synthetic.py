"""Synthetic registry data for benchmarks: valid id numbers, an even spread of ages, Hunan county codes.

    python bench/synthetic.py population 1000000 > population.csv
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from api.citizens import idnumber

COUNTIES = ("430102", "430103", "430104", "430105", "430111", "430112", "430121", "430181", "430202", "430203",
            "430302", "430304", "430405", "430502", "430602", "430702", "430802", "430902", "431002", "431102",
            "431202", "431302", "433101", "440305", "310104")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def person(rng: random.Random, serial: int) -> dict:
    """One population row; the birth year is spread evenly over 1940-2005."""
    region = rng.choice(COUNTIES)
    born = f"{rng.randrange(1940, 2006)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    first17 = f"{region}{born}{serial % 1000:03d}"
    id_number = first17 + idnumber.check_digit(first17)
    return {"id_number": id_number, "name": rng.choice(SURNAMES) + "某", "gender": idnumber.gender(id_number),
            "birth_date": f"{born[:4]}-{born[4:6]}-{born[6:]}", "phone": f"13{rng.randrange(10**9):09d}",
            "hukou_region": region, "address": "湖南省长沙市测试路 1 号"}


def write_population(path: Path, count: int, *, seed: int = 7) -> list[str]:
    """Write `count` people to a CSV file; their id numbers. A few repeat, drawn from 554,400,000 possible ones
    (about 900 at 1M, 90,000 at 10M): an import rejects the later rows of a repeated id number, so rows read =
    inserted + updated + rejected."""
    rng = random.Random(seed)
    ids = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id_number", "name", "gender", "birth_date", "phone",
                                                    "hukou_region", "address"])
        writer.writeheader()
        for serial in range(count):
            row = person(rng, serial)
            ids.append(row["id_number"])
            writer.writerow(row)
    return ids


def write_low_income(path: Path, ids: list[str], share: float, *, seed: int = 8) -> int:
    """Write a low-income dataset covering `share` of these people; the row count."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id_number", "category", "since"])
        for id_number in ids:
            if rng.random() < share:
                writer.writerow([id_number, rng.choice(("低保", "特困", "低保边缘")), "2020-01-01"])
                rows += 1
    return rows


if __name__ == "__main__":
    out = Path("/dev/stdout")
    write_population(out, int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
