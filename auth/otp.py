"""SMS one-time codes that prove a phone number afresh, for logins whose platform phone proof can be replayed.

A code is 6 digits, lives PHONE_OTP_TTL_SECONDS, is kept in Redis only as a keyed hash bound to the number, is spent
by its first right use, and is burnt after PHONE_OTP_MAX_TRIES wrong ones. Asking for one answers the same whoever
owns the number (or nobody); the asking is rate limited per number and per address.
"""

from __future__ import annotations

import hmac
import secrets

from api.core import pii, ratelimit
from api.core.deps import Deps
from auth.errors import InvalidPhoneOtp

CODE_KEY = "otp:phone:{}"  # by the number's blind index: the code's keyed hash
TRIES_KEY = "otp:phone:{}:tries"  # wrong and right tries at the code in force


def _digest(phone_bidx: str, code: str) -> str:
    # Keyed (the blind-index key): six digits hashed without a secret would fall to a million guesses offline.
    return pii.cipher().blind_index(f"{phone_bidx}:{code}", kind="phone_otp")


async def send_code(*, deps: Deps, phone: str, ip: str) -> dict:
    """Send a fresh code to `phone` by SMS, replacing any earlier one; its lifetime and when to ask again."""
    settings, redis = deps.settings, deps.redis
    window = settings.phone_otp_rate_window_seconds
    await ratelimit.hit(redis, bucket=f"otp:ip:{ip}", limit=settings.phone_otp_rate_per_ip, window_seconds=window)
    phone_bidx = pii.cipher().blind_index(phone, kind="phone")
    if settings.phone_otp_resend_seconds:
        await ratelimit.hit(redis, bucket=f"otp:resend:{phone_bidx}", limit=1,
                            window_seconds=settings.phone_otp_resend_seconds)
    await ratelimit.hit(redis, bucket=f"otp:phone:{phone_bidx}", limit=settings.phone_otp_rate_per_phone,
                        window_seconds=window)
    code = f"{secrets.randbelow(10**6):06d}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(CODE_KEY.format(phone_bidx), _digest(phone_bidx, code), ex=settings.phone_otp_ttl_seconds)
        pipe.delete(TRIES_KEY.format(phone_bidx))
        await pipe.execute()
    await deps.platforms["sms"].send(phone=phone, template_code=settings.sms_template_otp, params={"code": code})
    return {"expires_in": settings.phone_otp_ttl_seconds, "resend_after": settings.phone_otp_resend_seconds}


async def redeem_code(*, deps: Deps, phone: str, code: str) -> None:
    """Spend the code sent to `phone`; InvalidPhoneOtp when it is wrong, expired, spent, burnt or another
    number's."""
    settings, redis = deps.settings, deps.redis
    phone_bidx = pii.cipher().blind_index(phone, kind="phone")
    code_key, tries_key = CODE_KEY.format(phone_bidx), TRIES_KEY.format(phone_bidx)
    # Counted before it is compared: parallel guesses cannot get past the limit between a read and a write.
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(code_key)
        pipe.incr(tries_key)
        pipe.expire(tries_key, settings.phone_otp_ttl_seconds)
        stored, tries, _ = await pipe.execute()
    if stored is None:
        raise InvalidPhoneOtp()
    if tries > settings.phone_otp_max_tries:
        await redis.delete(code_key)
        raise InvalidPhoneOtp("短信验证码错误次数过多，已失效，请重新获取")
    if not hmac.compare_digest(stored, _digest(phone_bidx, code)):
        if tries >= settings.phone_otp_max_tries:
            await redis.delete(code_key)
        raise InvalidPhoneOtp()
    if not await redis.delete(code_key):  # a concurrent login spent it first
        raise InvalidPhoneOtp()
    await redis.delete(tries_key)
