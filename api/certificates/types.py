"""Certificate types, as data (data/certificate_types.json): names, purposes, validity, who decides."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

from api.core.errors import ValidationFailed

TYPES_FILE = Path(__file__).resolve().parent / "data" / "certificate_types.json"


class CertificateType(BaseModel):
    code: str
    name: str
    dept: str
    issuer: str
    license_type: str
    purposes: list[str]
    validity_days: int
    decided_by: str  # a registry decider (population_hukou, population_address) or "reviewer"
    registry: str | None = None  # the registry dataset that decides it (None: no registry holds the facts)
    registry_note: str | None = None
    mask_holder: bool
    serial_prefix: str
    statement: str


@lru_cache(maxsize=1)
def all_types() -> dict[str, CertificateType]:
    """Every certificate type, by code."""
    data = json.loads(TYPES_FILE.read_text(encoding="utf-8"))
    return {t["code"]: CertificateType.model_validate(t) for t in data["types"]}


def get(code: str) -> CertificateType:
    """A type by code; 422 for an unknown one."""
    found = all_types().get(code)
    if found is None:
        raise ValidationFailed(fields={"type_code": "不存在的证明类型"})
    return found
