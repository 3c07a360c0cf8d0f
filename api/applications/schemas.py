"""Request and response shapes of uploads, applications, drafts, ratings and the staff queue."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.applications.workflow import STAFF_ACTIONS

REGION = r"^[1-8][0-9]{5}$"


class FileRead(BaseModel):
    file_id: str
    sha256: str
    size: int
    content_type: str


class MaterialIn(BaseModel):
    material_code: str = Field(pattern=r"^M_[A-Z0-9_]+$")
    file_id: str | None = Field(default=None, max_length=40)
    license_id: str | None = Field(default=None, max_length=40, description="免提交：电子证照 id")
    commitment: bool = Field(default=False, description="告知承诺：以书面承诺代替该材料")
    deferred: bool = Field(default=False, description="容缺受理：该材料后补（须在审批前补齐）")

    @model_validator(mode="after")
    def _one_way(self) -> "MaterialIn":
        ways = sum([self.file_id is not None, self.license_id is not None, self.commitment, self.deferred])
        if ways != 1:
            raise ValueError("file_id、license_id、commitment、deferred 须且只能选一种")
        return self


class DeliveryIn(BaseModel):
    method: Literal["pickup", "express", "electronic"]
    address: str | None = Field(default=None, min_length=5, max_length=200)

    @model_validator(mode="after")
    def _address_for_express(self) -> "DeliveryIn":
        if self.method == "express" and not self.address:
            raise ValueError("邮寄送达须填写收件地址")
        return self


class ApplicationCreate(BaseModel):
    item_code: str | None = Field(default=None, max_length=32)
    bundle_code: str | None = Field(default=None, max_length=32)
    form: dict[str, Any] = {}
    materials: list[MaterialIn] = Field(default=[], max_length=50)
    delivery: DeliveryIn
    applicant_region: str = Field(pattern=REGION, description="申请人所在地（户籍或居住地）行政区划代码 GB/T 2260")
    handling_region: str | None = Field(default=None, pattern=REGION, description="办理地区划代码，默认为本省")
    receiving_region: str | None = Field(default=None, pattern=REGION,
                                         description="收件地区划代码（异地代收代办时为代收窗口所在地）")
    draft_id: str | None = Field(default=None, max_length=40, description="由草稿提交时带上，提交后草稿删除")

    @model_validator(mode="after")
    def _one_target(self) -> "ApplicationCreate":
        if (self.item_code is None) == (self.bundle_code is None):
            raise ValueError("item_code 与 bundle_code 须且只能填一个")
        return self


class SupplementIn(BaseModel):
    materials: list[MaterialIn] = Field(default=[], max_length=50)
    form: dict[str, Any] = Field(default={}, description="补正的表单字段（与原表单合并后重新校验）")
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _something(self) -> "SupplementIn":
        if not self.materials and not self.form:
            raise ValueError("请提交补正的材料或表单字段")
        return self


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


class StaffActionIn(BaseModel):
    action: Literal[STAFF_ACTIONS]  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=500)
    tracking_no: str | None = Field(default=None, min_length=6, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


class DraftIn(BaseModel):
    item_code: str | None = Field(default=None, max_length=32)
    bundle_code: str | None = Field(default=None, max_length=32)
    form: dict[str, Any] = {}
    materials: list[dict[str, Any]] = Field(default=[], max_length=50)
    delivery: dict[str, Any] | None = None
    applicant_region: str | None = Field(default=None, pattern=REGION)

    @model_validator(mode="after")
    def _one_target(self) -> "DraftIn":
        if (self.item_code is None) == (self.bundle_code is None):
            raise ValueError("item_code 与 bundle_code 须且只能填一个")
        return self


class DraftRead(DraftIn):
    id: str
    created_at: dt.datetime
    updated_at: dt.datetime


class DraftPage(BaseModel):
    items: list[DraftRead]
    next_cursor: str | None = None


class TimelineRead(BaseModel):
    at: dt.datetime
    actor_type: str
    action: str
    from_status: str | None
    to_status: str
    note: str | None
    case_id: str


class MaterialRead(BaseModel):
    material_code: str
    name: str
    way: Literal["file", "license", "commitment", "deferred"]
    file_id: str | None = None
    license_id: str | None = None
    commitment_text: str | None = None
    committed_at: dt.datetime | None = None
    owed: bool = Field(description="容缺后补、尚未补齐")


class SubCaseRead(BaseModel):
    id: str
    dept: str
    title: str
    item_codes: list[str]
    status: str
    due_date: dt.date | None
    sla_state: str
    tracking_no: str | None


class ApplicationSummary(BaseModel):
    id: str
    title: str
    item_code: str | None
    bundle_code: str | None
    status: str
    due_date: dt.date | None
    sla_state: str
    created_at: dt.datetime


class ApplicationRead(ApplicationSummary):
    dept: str | None
    form: dict[str, Any]
    masked: bool
    materials: list[MaterialRead]
    delivery: dict[str, Any] = Field(description="method、address（脱敏）、tracking_no")
    applicant_region: str
    handling_region: str
    receiving_region: str
    cross_province: bool
    sub_cases: list[SubCaseRead]
    timeline: list[TimelineRead]
    rating: dict[str, Any] | None = None
    parent_id: str | None = None
    version: int


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    next_cursor: str | None = None


class QueueEntry(BaseModel):
    id: str
    title: str
    dept: str
    status: str
    due_date: dt.date | None
    sla_state: str
    cross_province: bool
    applicant_region: str
    handling_region: str
    receiving_region: str
    created_at: dt.datetime
    version: int


class QueuePage(BaseModel):
    items: list[QueueEntry]
    next_cursor: str | None = None


class RectificationRead(BaseModel):
    id: str
    application_id: str
    dept: str
    status: str
    due_date: dt.date
    score: int
    comment: str | None
    created_at: dt.datetime


class RectificationPage(BaseModel):
    items: list[RectificationRead]
    next_cursor: str | None = None
