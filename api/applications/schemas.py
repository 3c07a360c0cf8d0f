"""Request and response shapes of uploads, applications, drafts, ratings and the staff queue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from api.applications.workflow import STAFF_ACTIONS
from api.core.charts import DaySeriesRead, RangeRead
from api.core.times import Timestamp

REGION = r"^[1-8][0-9]{5}$"
MATERIAL_CODE = r"^M_[A-Z0-9_]+$"


class FileRead(BaseModel):
    file_id: str
    sha256: str
    size: int
    content_type: str


class MaterialIn(BaseModel):
    material_code: str = Field(pattern=MATERIAL_CODE)
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
    draft_id: str | None = Field(default=None, max_length=40,
                                 description="由草稿提交时带上，提交后草稿删除；同一草稿再次提交为 404（同一 "
                                             "Idempotency-Key 的重放返回首次结果）")

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
    note: str | None = Field(default=None, max_length=500,
                             description="办理意见；不予受理、不予批准时为告知申请人的理由，要求补正时为补正说明")
    # 32: the most a WeChat character_string field takes; every courier's waybill number is shorter.
    tracking_no: str | None = Field(default=None, min_length=6, max_length=32, pattern=r"^[A-Za-z0-9-]+$",
                                    description="ship：快递单号（与 carrier 一同填写）")
    carrier: str | None = Field(default=None, min_length=2, max_length=32,
                                description="ship：快递公司，如 EMS、顺丰速运（与 tracking_no 一同填写）")
    materials: list[Annotated[str, Field(pattern=MATERIAL_CODE, max_length=40)]] | None = Field(
        default=None, min_length=1, max_length=20,
        description="request_supplement：须补正的材料编码（本办件事项的材料）")
    supplement_due: dt.date | None = Field(
        default=None, description="request_supplement：补正截止日（YYYY-MM-DD），须晚于今天且在 60 天内；"
                                  "默认今天起 10 个工作日")

    @field_validator("carrier")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if len(value) < 2 or any(not ch.isprintable() for ch in value):
            raise ValueError("快递公司名称至少 2 个字符，且不含控制字符")
        return value

    @field_validator("materials")
    @classmethod
    def _once_each(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))  # a material named twice is asked once


class DraftDeliveryIn(BaseModel):
    method: Literal["pickup", "express", "electronic"] | None = None
    address: str | None = Field(default=None, min_length=5, max_length=200)


class DraftIn(BaseModel):
    item_code: str | None = Field(default=None, max_length=32)
    bundle_code: str | None = Field(default=None, max_length=32)
    form: dict[str, Any] = Field(default={}, description="已填写的表单字段：可缺必填项，已填的须符合事项表单；"
                                                         "申请人身份字段（x-identity）由系统按实名信息预填")
    materials: list[MaterialIn] = Field(default=[], max_length=50)
    delivery: DraftDeliveryIn | None = None
    applicant_region: str | None = Field(default=None, pattern=REGION)

    @model_validator(mode="after")
    def _one_target(self) -> "DraftIn":
        if (self.item_code is None) == (self.bundle_code is None):
            raise ValueError("item_code 与 bundle_code 须且只能填一个")
        return self


class DraftRead(DraftIn):
    id: str
    masked: bool = Field(description="表单中的姓名、证件号、手机号、地址、账号已脱敏（本人 ?reveal=true 查看明文）")
    created_at: Timestamp
    updated_at: Timestamp


class DraftPage(BaseModel):
    items: list[DraftRead]
    next_cursor: str | None = None


class TimelineRead(BaseModel):
    at: Timestamp
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
    committed_at: Timestamp | None = None
    owed: bool = Field(description="容缺后补、尚未补齐")


class SupplementRequestRead(BaseModel):
    materials: list[str] = Field(description="须补正的材料编码")
    due: dt.date = Field(description="补正截止日")
    what: str = Field(description="须补正的内容：材料名称与补正说明")


class SubCaseRead(BaseModel):
    id: str
    dept: str
    title: str
    item_codes: list[str]
    status: str
    due_date: dt.date | None
    sla_state: str
    carrier: str | None = Field(default=None, description="快递公司")
    tracking_no: str | None
    supplement: SupplementRequestRead | None = Field(default=None, description="待补正时：补正要求")


class ApplicationSummary(BaseModel):
    id: str
    title: str
    item_code: str | None
    bundle_code: str | None
    status: str
    due_date: dt.date | None
    sla_state: str
    created_at: Timestamp


class DeliveryRead(BaseModel):
    method: Literal["pickup", "express", "electronic"]
    address: str | None = Field(description="收件地址（本人 reveal 或工作人员查看时为明文，否则脱敏）")
    carrier: str | None = Field(default=None, description="寄出后：快递公司")
    tracking_no: str | None = Field(default=None, description="寄出后：快递单号")


class PersonRead(BaseModel):
    """A person as an application shows them: masked."""

    id: str
    name: str | None = Field(description="姓名（脱敏）")
    id_number: str | None = Field(description="身份证号（脱敏）")
    phone: str | None = Field(description="手机号（脱敏）")
    assurance_level: int = Field(description="当前实名等级：1 手机号已验证，2 实名核验，3 人脸核验")
    real_name_verified: bool


class ApplicationRead(ApplicationSummary):
    dept: str | None
    form: dict[str, Any]
    masked: bool
    materials: list[MaterialRead]
    delivery: DeliveryRead
    supplement: SupplementRequestRead | None = Field(default=None, description="待补正时：补正要求")
    applicant_region: str
    handling_region: str
    receiving_region: str
    cross_province: bool
    sub_cases: list[SubCaseRead]
    timeline: list[TimelineRead]
    rating: dict[str, Any] | None = None
    parent_id: str | None = None
    version: int
    applicant: PersonRead = Field(description="申请人（办件所属市民），脱敏；表单中的申请人身份字段即其实名信息")
    agent: PersonRead | None = Field(default=None, description="代办人：亲友代办（X-On-Behalf-Of）提交时为代为提交的"
                                                              "市民，脱敏；本人提交时为 null")


class StaffCaseRead(ApplicationRead):
    allowed_actions: list[Literal[STAFF_ACTIONS]] = Field(  # type: ignore[valid-type]
        description="工作流此刻允许本人执行的操作（POST /api/v1/admin/applications/{id}/actions 的 action 取值）："
                    "由办件当前状态按工作流的状态迁移表得出，并除去办件本身不满足条件的操作（容缺材料未补齐时不能 "
                    "approve，非邮寄送达的办件不能 ship）。ship 另须 carrier 与 tracking_no，request_supplement "
                    "须 note、可带 materials")


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
    created_at: Timestamp
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
    created_at: Timestamp


class RectificationPage(BaseModel):
    items: list[RectificationRead]
    next_cursor: str | None = None


class StatusSeries(BaseModel):
    status: str = Field(description="办件当前状态")
    counts: list[int] = Field(description="与 days 一一对应：当天提交、现处于该状态的办件数")
    total: int


class ApplicationsDashboard(DaySeriesRead):
    series: list[StatusSeries] = Field(description="每个状态一个序列（工作流的全部状态，固定顺序）")
    total: int = Field(description="时间段内提交的办件数")


class SlaSeries(BaseModel):
    state: str = Field(description="SLA 状态：on_track、warning、overdue、paused")
    counts: list[int] = Field(description="与 depts 一一对应：该部门处于此状态的未办结办件数")
    shares: list[float] = Field(description="与 depts 一一对应：占该部门未办结办件的比例（0 到 1，四位小数）")


class SlaTotal(BaseModel):
    open: int
    counts: dict[str, int]
    shares: dict[str, float]


class SlaDashboard(RangeRead):
    depts: list[str] = Field(description="横轴：部门编码")
    dept_names: list[str] = Field(description="与 depts 一一对应：部门名称")
    open: list[int] = Field(description="与 depts 一一对应：时间段内提交、现仍未办结的办件数")
    series: list[SlaSeries]
    total: SlaTotal = Field(description="所有部门合计")


class ScoreSeries(BaseModel):
    score: int = Field(ge=1, le=5)
    level: str = Field(description="评价等级：非常满意、满意、基本满意、不满意、非常不满意")
    counts: list[int] = Field(description="与 days 一一对应：当天给出该评分的评价数")
    total: int


class RectificationFigures(BaseModel):
    open: int = Field(description="此刻未关闭的差评整改单")
    overdue: int = Field(description="其中已过整改期限的")


class RatingsDashboard(DaySeriesRead):
    series: list[ScoreSeries] = Field(description="每个评分（5 到 1）一个序列")
    total: int
    average: float | None = Field(description="平均分（两位小数）；没有评价时为 null")
    bad: int = Field(description="差评数（评分 1、2）")
    rectifications: RectificationFigures
