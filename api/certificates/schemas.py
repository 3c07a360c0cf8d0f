"""Request and response shapes of certificates, the wallet and verification."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.core.charts import DaySeriesRead
from api.core.times import Timestamp


class CertificateTypeRead(BaseModel):
    code: str
    name: str
    dept: str
    purposes: list[str]
    validity_days: int
    decided_by: Literal["registry", "reviewer"] = Field(description="registry：依据登记数据即时出具（秒批）")
    registry: str | None = Field(default=None, description="作出判断的登记数据集")
    registry_note: str | None = None


class CertificateTypePage(BaseModel):
    items: list[CertificateTypeRead]


class CertificateCreate(BaseModel):
    type_code: str = Field(max_length=32)
    purpose: str = Field(max_length=32)


class CertificateRead(BaseModel):
    id: str
    type_code: str
    type_name: str
    purpose: str
    status: str = Field(description="issued、pending_review、rejected、revoked、expired")
    reason: str | None
    serial: str
    verify_url: str | None
    issued_at: Timestamp | None
    expires_at: Timestamp | None
    created_at: Timestamp


class CertificatePage(BaseModel):
    items: list[CertificateRead]
    next_cursor: str | None = None


class CertificateAction(BaseModel):
    action: Literal["approve", "reject", "revoke"]
    note: str | None = Field(default=None, max_length=500)


class LicenseRead(BaseModel):
    id: str
    type: str
    name: str
    source: str
    status: str
    issuer: str
    issued_at: Timestamp | None
    expires_at: Timestamp | None
    fields: dict[str, Any]


class LicensePage(BaseModel):
    items: list[LicenseRead]


class PresentationCreate(BaseModel):
    fields: list[str] = Field(min_length=1, max_length=20, description="要出示的字段")
    ttl_seconds: int | None = Field(default=None, ge=10, le=600, description="有效秒数，默认 120")


class PresentationRead(BaseModel):
    qr_payload: str
    expires_at: Timestamp


class VerifyRequest(BaseModel):
    payload: str = Field(min_length=1, max_length=4096, description="亮证二维码内容，或电子证明二维码中的核验地址")


def _absent(value) -> bool:
    return value is None


class VerifyRead(BaseModel):
    # An answer says only what it knows: `invalid` names nothing else, `expired` shows no fields (absent, not null).
    status: Literal["valid", "revoked", "expired", "invalid"]
    type: str | None = Field(default=None, exclude_if=_absent)
    issuer: str | None = Field(default=None, exclude_if=_absent)
    issued_at: Timestamp | None = Field(default=None, exclude_if=_absent)
    expires_at: Timestamp | None = Field(default=None, exclude_if=_absent)
    holder_masked: str | None = Field(default=None, exclude_if=_absent)
    fields: dict[str, Any] | None = Field(default=None, exclude_if=_absent)
    status_since: Timestamp | None = Field(default=None, exclude_if=_absent)
    checked_at: Timestamp = Field(description="作出本次判断的时间（状态以此刻为准）")


class CertificateTypeSeries(BaseModel):
    type_code: str
    name: str = Field(description="证明类型名称")
    dept: str = Field(description="出具部门")
    counts: list[int] = Field(description="与 days 一一对应：当天出具的该类证明数")
    total: int


class CertificatesDashboard(DaySeriesRead):
    series: list[CertificateTypeSeries] = Field(description="每个证明类型一个序列（调用者可见部门的全部类型）")
    total: int = Field(description="时间段内出具的证明数")
