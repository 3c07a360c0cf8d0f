"""Request and response shapes of the one-person code, terminals and scans."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.core.charts import RangeRead
from api.core.times import Timestamp

Scene = Literal["service", "health", "transit", "social_security"]


class CodeRead(BaseModel):
    payload: str = Field(description="二维码内容：YM1: + base45(zlib(COSE_Sign1))，Ed25519 签名")
    expires_at: Timestamp
    refresh_after_seconds: int = Field(description="客户端在此秒数后刷新，保证出示时码仍有效")
    scenes: list[Scene]


class CodeStatusRead(BaseModel):
    status: Literal["active", "frozen", "revoked"]
    changed_at: Timestamp | None
    sessions_ended: int | None = None


class CodeHolderRead(BaseModel):
    id: str = Field(description="本人的市民 id（一人一码消息的 ref.id）")
    status: Literal["active", "frozen", "revoked"]
    changed_at: Timestamp | None
    reason: str | None = Field(description="冻结或停用的原因（正常时为空）")


class Jwk(BaseModel):
    kty: str
    crv: str
    alg: str
    use: str
    kid: str
    x: str
    nbf: int = Field(description="开始签发（Unix 秒）")
    exp: int = Field(description="停止签发（Unix 秒）")
    publish_until: int = Field(description="公布至（其签发的码全部过期之后）")
    status: Literal["current", "next", "retired"]


class Jwks(BaseModel):
    keys: list[Jwk]
    code_prefix: str
    code_ttl_seconds: int
    clock_skew_seconds: int


class RevocationItem(BaseModel):
    code_id: str
    reason: str
    revoked_at: Timestamp
    expires_at: Timestamp


class RevocationPage(BaseModel):
    items: list[RevocationItem]
    next_since: int = Field(description="下次请求的 since")
    more: bool
    as_of: Timestamp


class ScanRequest(BaseModel):
    payload: str = Field(min_length=8, max_length=1024)
    scene: Scene


class ScanRead(BaseModel):
    scan_id: str
    scene: Scene
    code_id: str
    expires_at: Timestamp
    may_ride: bool | None = Field(default=None, description="transit：可否乘车")
    ride_account: str | None = Field(default=None, description="transit：扣费的乘车账户")
    health_card_no: str | None = Field(default=None, description="health：电子健康卡号")
    card_no: str | None = Field(default=None, description="social_security：社保卡号")
    card_status: str | None = None
    name: str | None = Field(default=None, description="脱敏姓名（health、service、social_security）")
    id_number: str | None = Field(default=None, description="service：脱敏身份证号")
    assurance_level: int | None = None
    reason: str | None = None


class OfflineScan(BaseModel):
    scan_id: str = Field(min_length=1, max_length=64, description="终端自编的扫码编号，重复上传以此去重")
    payload: str = Field(min_length=8, max_length=1024)
    scanned_at: Timestamp


class ScanBatch(BaseModel):
    scans: list[OfflineScan] = Field(min_length=1, max_length=500)


class ScanBatchItem(BaseModel):
    scan_id: str
    outcome: Literal["accepted", "refused"]
    reason: str | None
    code_id: str | None
    used_twice: bool


class ScanBatchRead(BaseModel):
    recorded: int
    already_recorded: int
    items: list[ScanBatchItem]
    flagged: list[str] = Field(description="同一码被使用两次的扫码编号")


class MyScan(BaseModel):
    id: str
    scene: Scene
    terminal: str | None
    dept: str | None
    outcome: str
    reason: str | None
    source: str
    scanned_at: Timestamp


class MyScanPage(BaseModel):
    items: list[MyScan]
    next_cursor: str | None = None


class TerminalCreate(BaseModel):
    name: str = Field(min_length=2, max_length=100)
    scene: Scene
    dept: str = Field(min_length=2, max_length=64)


class TerminalRead(BaseModel):
    terminal_id: str
    name: str
    scene: Scene
    dept: str
    status: Literal["active", "disabled"]
    created_at: Timestamp
    disabled_at: Timestamp | None
    secret: str | None = Field(default=None, description="仅在登记时返回一次")


class TerminalPage(BaseModel):
    items: list[TerminalRead]
    next_cursor: str | None = None


class CodeRevoke(BaseModel):
    reason: str = Field(min_length=2, max_length=200)


class HolderStatusRead(BaseModel):
    citizen_id: str
    status: Literal["active", "revoked"]
    changed_at: Timestamp


class SceneSeries(BaseModel):
    scene: str = Field(description="场景：service、health、transit、social_security")
    counts: list[int] = Field(description="与 hours 一一对应：时间段内各天该小时的扫码次数之和", min_length=24,
                              max_length=24)
    accepted: int = Field(description="其中通过的")
    refused: int = Field(description="其中拒绝的")
    total: int


class ScansDashboard(RangeRead):
    hours: list[int] = Field(description="横轴：一天中的小时 0 到 23（北京时间）")
    series: list[SceneSeries] = Field(description="每个场景一个序列")
    total: int
