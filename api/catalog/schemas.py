"""Shapes of the catalogue: the file it is loaded from, and the answers of its routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ITEM_TYPES = ("行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "行政征收", "其他行政权力", "公共服务")
ONLINE_DEPTHS = ("全程网办", "网上预审", "网上申请一次到现场", "现场办理")
DeliveryMethod = Literal["pickup", "express", "electronic"]


class Material(BaseModel):
    code: str = Field(pattern=r"^M_[A-Z0-9_]+$")
    name: str
    required: bool
    commitment_allowed: bool = Field(description="告知承诺：可用书面承诺代替")
    deferrable: bool = Field(description="容缺受理：可后补，须在审批前补齐")
    exempt_by_license_type: str | None = Field(default=None, description="免提交：持有该类电子证照即无需提交")
    description: str = ""


class DepartmentIn(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: str


class ItemIn(BaseModel):
    code: str = Field(pattern=r"^[0-9A-Za-z]{6,32}$")
    name: str
    dept: str
    type: Literal[ITEM_TYPES]  # type: ignore[valid-type]
    theme: str
    keywords: list[str] = []
    legal_basis: str
    legal_days: int = Field(ge=1, le=365)
    promised_days: int = Field(ge=1, le=365)
    online_depth: Literal[ONLINE_DEPTHS]  # type: ignore[valid-type]
    cross_province: bool
    levels: list[str] = []
    min_assurance_level: int = Field(ge=1, le=3)
    fees: str
    delivery_methods: list[DeliveryMethod] = Field(min_length=1)
    materials: list[Material]
    form_schema: dict[str, Any]


class BundleIn(BaseModel):
    code: str = Field(pattern=r"^B_[A-Z0-9_]+$")
    name: str
    description: str
    theme: str
    keywords: list[str] = []
    items: list[str] = Field(min_length=2)


class CatalogueFile(BaseModel):
    themes: list[str]
    departments: list[DepartmentIn]
    items: list[ItemIn]
    bundles: list[BundleIn]


class ItemSummary(BaseModel):
    code: str
    name: str
    dept: str
    dept_name: str
    theme: str
    type: str
    legal_days: int
    promised_days: int
    online_depth: str
    cross_province: bool
    min_assurance_level: int


class BundleSummary(BaseModel):
    code: str
    name: str
    description: str
    theme: str
    item_codes: list[str]
    depts: list[str]


class ItemPage(BaseModel):
    items: list[ItemSummary]
    next_cursor: str | None = None
    bundles: list[BundleSummary] = Field(default=[], description="与搜索词匹配的一件事（仅在带 q 时）")


class ItemGuide(ItemSummary):
    """办事指南."""

    keywords: list[str]
    legal_basis: str
    levels: list[str]
    fees: str
    delivery_methods: list[str]
    materials: list[Material]
    form_schema: dict[str, Any]


class BundleGuide(BundleSummary):
    keywords: list[str]
    items: list[ItemSummary]
    materials: list[Material] = Field(description="合并后的材料清单（同一材料只列一次）")
    form_schema: dict[str, Any] = Field(description="合并后的表单（多个事项都需要的字段只填一次）")
    min_assurance_level: int
    delivery_methods: list[str]
    promised_days: int


class BundlePage(BaseModel):
    items: list[BundleSummary]
    next_cursor: str | None = None
