"""Resolving an application's materials: uploads, wallet licences (免提交), pledges (告知承诺), deferrals (容缺)."""

from __future__ import annotations

import datetime as dt

from api.applications import files
from api.applications.errors import LicenseNotFound, MaterialsInvalid
from api.applications.schemas import MaterialIn
from api.certificates import wallet

COMMITMENT_TEXT = "本人承诺：{name}所证明的事项真实有效；如有不实，愿承担相应法律责任，并接受撤销许可等处理。"

def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def resolve(*, wanted: list[dict], given: list[MaterialIn], citizen_id: str, partial: bool = False
                  ) -> list[dict]:
    """The stored material entries for `given` against the catalogue's `wanted` list; 422 naming each problem.

    `partial` (a supplement) checks only what is given; a submission must cover every required material.
    """
    by_code = {m["code"]: m for m in wanted}
    problems: dict[str, str] = {}
    entries: list[dict] = []
    seen: set[str] = set()
    for n, m in enumerate(given):
        where = f"materials.{n}"
        spec = by_code.get(m.material_code)
        if spec is None:
            problems[where] = f"该事项不需要材料 {m.material_code}"
            continue
        if m.material_code in seen:
            problems[where] = "同一材料只能提交一次"
            continue
        seen.add(m.material_code)
        entry = {"material_code": m.material_code, "name": spec["name"], "owed": False}
        if m.file_id is not None:
            row = await files.owned_file(file_id=m.file_id, owner_id=citizen_id)
            entry.update(way="file", file_id=row.id, sha256=row.sha256)
        elif m.license_id is not None:
            license_type = spec.get("exempt_by_license_type")
            if not license_type:
                problems[where] = "该材料不能以电子证照代替"
                continue
            if not await wallet.license_stands_in(citizen_id, m.license_id, license_type):
                raise LicenseNotFound(fields={where: f"需要有效的 {license_type} 电子证照"})
            entry.update(way="license", license_id=m.license_id, license_type=license_type)
        elif m.commitment:
            if not spec["commitment_allowed"]:
                problems[where] = "该材料不适用告知承诺"
                continue
            entry.update(way="commitment", commitment_text=COMMITMENT_TEXT.format(name=spec["name"]),
                         committed_at=_now().isoformat())
        else:
            if not spec["deferrable"]:
                problems[where] = "该材料不适用容缺受理"
                continue
            entry.update(way="deferred", owed=True)
        entries.append(entry)
    if not partial:
        for spec in wanted:
            if spec["required"] and spec["code"] not in seen:
                problems[f"materials.{spec['code']}"] = f"缺少必需材料：{spec['name']}"
    if problems:
        raise MaterialsInvalid(fields=problems)
    return entries


def merge(current: list[dict], updates: list[dict]) -> list[dict]:
    """The material list after a supplement: an update replaces the entry for its material."""
    replaced = {u["material_code"]: u for u in updates}
    merged = [replaced.pop(e["material_code"], e) for e in current]
    return merged + list(replaced.values())


def owed(entries: list[dict]) -> list[str]:
    """Material codes deferred (容缺) and still owed."""
    return [e["material_code"] for e in entries if e.get("owed")]
