"""The sandbox platforms' memory, in the app's Redis: codes, tokens, users, accepted messages and faults."""

from __future__ import annotations

import asyncio
import json
import secrets

from pydantic import BaseModel, Field

CODE_TTL_SECONDS = 300  # both platforms: a login code lives 5 minutes and is good for one exchange
MESSAGE_LOG_LIMIT = 10_000
BULK_LIMIT = 10_000  # ids per users/refusals helper call
ACCEPTED = "messages_accepted"
FAIL_MODES = ("down", "busy", "rate_limit", "token_invalid", "user_refused", "quota", "bad_signature", "malformed",
              "lost_answer", "lost_request")


class Faults(BaseModel):
    """What the sandbox does wrong on purpose, for the tests and for front-end developers."""

    latency_ms: int = Field(default=0, ge=0, le=60_000, description="每次调用前等待的毫秒数")
    fail: str | None = Field(default=None, pattern="^(" + "|".join(FAIL_MODES) + ")$",
                             description="down: HTTP 503; busy: 系统繁忙; rate_limit: 频率限制; "
                                         "token_invalid: access_token 失效 (40001); user_refused: 用户拒收消息; "
                                         "quota: 消息额度用尽; bad_signature: 应答签名错误 (支付宝); "
                                         "malformed: 应答格式错误（字符串字段变为数组；支付宝的 /codes 生成的手机号"
                                         "报文同样，短信为字段类型错误的应答）; lost_answer: 短信已受理（可由 "
                                         "QuerySendDetails 查到）但应答超时未到; "
                                         "lost_request: 短信未受理且应答超时未到")
    remaining: int | None = Field(default=None, ge=1, description="故障生效的调用次数，空为一直生效")


class Added(BaseModel):
    """The answer of a bulk helper."""

    added: int = Field(description="本次登记的数量")


class MessageStats(BaseModel):
    """A platform's message counter."""

    messages_accepted: int = Field(description="沙箱接收的消息数（自上次清空起）")


def spoiled(answer: dict) -> dict:
    """`answer` with every string value a one-item list: what the `malformed` fault answers."""
    return {k: [v] if isinstance(v, str) else v for k, v in answer.items()}


def _key(platform: str, *parts: str) -> str:
    return ":".join(("sandbox", platform, *parts))


async def set_faults(redis, platform: str, faults: Faults) -> None:
    """Install faults for a platform (replacing the previous ones)."""
    await redis.set(_key(platform, "faults"), faults.model_dump_json())
    if faults.remaining is not None:
        await redis.set(_key(platform, "faults", "remaining"), faults.remaining)
    else:
        await redis.delete(_key(platform, "faults", "remaining"))


async def clear_faults(redis, platform: str) -> None:
    """Back to a healthy platform."""
    await redis.delete(_key(platform, "faults"), _key(platform, "faults", "remaining"))


async def get_faults(redis, platform: str) -> Faults:
    """The faults in force."""
    raw = await redis.get(_key(platform, "faults"))
    return Faults.model_validate_json(raw) if raw else Faults()


async def apply_faults(redis, platform: str, *, applies_to: tuple[str, ...] | None = None,
                       wait: bool = True) -> str | None:
    """Wait the injected latency (unless not `wait`); the failure mode this call must show, if any (counting down
    `remaining`)."""
    faults = await get_faults(redis, platform)
    if wait and faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if not faults.fail or (applies_to is not None and faults.fail not in applies_to):
        return None
    if faults.remaining is not None:
        left = await redis.decr(_key(platform, "faults", "remaining"))
        if left < 0:
            await clear_faults(redis, platform)
            return None
    return faults.fail


async def mint(redis, platform: str, kind: str, payload: dict, ttl_seconds: int = CODE_TTL_SECONDS) -> str:
    """A fresh single-use code standing for `payload`."""
    code = secrets.token_urlsafe(18)
    await redis.set(_key(platform, kind, code), json.dumps(payload), ex=ttl_seconds)
    return code


async def redeem(redis, platform: str, kind: str, code: str) -> tuple[str, dict | None]:
    """("ok", payload) once; then ("used", None); ("invalid", None) for codes never minted or expired."""
    raw = await redis.getdel(_key(platform, kind, code))
    if raw is not None:
        await redis.set(_key(platform, kind, "used", code), "1", ex=CODE_TTL_SECONDS)
        return "ok", json.loads(raw)
    if await redis.exists(_key(platform, kind, "used", code)):
        return "used", None
    return "invalid", None


async def remember(redis, platform: str, kind: str, key: str, value: dict, ttl_seconds: int) -> None:
    """Keep a value (an access token's owner, a known user) for a while."""
    await redis.set(_key(platform, kind, key), json.dumps(value), ex=ttl_seconds)


async def recall(redis, platform: str, kind: str, key: str) -> dict | None:
    """A value kept by `remember`, or None."""
    raw = await redis.get(_key(platform, kind, key))
    return json.loads(raw) if raw else None


async def count(redis, platform: str, counter: str) -> int:
    """Add one to a counter (token fetches ...); its new value."""
    return await redis.incr(_key(platform, "count", counter))


async def counted(redis, platform: str, counter: str) -> int:
    """A counter's value."""
    return int(await redis.get(_key(platform, "count", counter)) or 0)


async def counters(redis, platform: str, *names: str) -> dict[str, int]:
    """Several counters' values, in one round trip."""
    values = await redis.mget([_key(platform, "count", name) for name in names])
    return {name: int(value or 0) for name, value in zip(names, values, strict=True)}


async def log_message(redis, platform: str, *messages: dict) -> None:
    """Record accepted messages (newest last, capped) and count them, in one round trip."""
    key = _key(platform, "messages")
    pipe = redis.pipeline(transaction=False)
    pipe.rpush(key, *(json.dumps(m, ensure_ascii=False) for m in messages))
    pipe.ltrim(key, -MESSAGE_LOG_LIMIT, -1)
    pipe.incrby(_key(platform, "count", ACCEPTED), len(messages))
    await pipe.execute()


async def clear_messages(redis, platform: str) -> None:
    """Empty the message log and its counter."""
    await redis.delete(_key(platform, "messages"), _key(platform, "count", ACCEPTED))


async def register_users(redis, platform: str, ids: list[str], *, field: str, ttl_seconds: int) -> int:
    """Make users known to the platform, as if each had logged in (`{field: id}` kept like `remember`)."""
    pipe = redis.pipeline(transaction=False)
    for uid in ids:
        pipe.set(_key(platform, "user", uid), json.dumps({field: uid}), ex=ttl_seconds)
    await pipe.execute()
    return len(ids)


async def add_refusals(redis, platform: str, ids: list[str]) -> int:
    """Users who refuse every message from now on."""
    await redis.sadd(_key(platform, "refusals"), *ids)
    return len(ids)


async def recipient(redis, platform: str, uid: str) -> tuple[bool, bool]:
    """(known, refusing) for a message's recipient, in one round trip."""
    pipe = redis.pipeline(transaction=False)
    pipe.exists(_key(platform, "user", uid))
    pipe.sismember(_key(platform, "refusals"), uid)
    known, refusing = await pipe.execute()
    return bool(known), bool(refusing)


async def messages(redis, platform: str) -> list[dict]:
    """Every accepted message still in the log, oldest first."""
    return [json.loads(m) for m in await redis.lrange(_key(platform, "messages"), 0, -1)]
