"""Error codes of signing in."""

from __future__ import annotations

from api.core import pii
from api.core.errors import Unauthorized


class PhoneOtpRequired(Unauthorized):
    """The phone proof can be replayed and would link or set a number: an SMS code to that number must come too."""

    code = "phone_otp_required"

    def __init__(self, phone: str):
        masked = pii.mask_phone(phone)
        super().__init__(f"为保障账号安全，请输入发送至 {masked} 的短信验证码后重新登录",
                         fields={"phone_otp": f"请输入发送至 {masked} 的短信验证码"})


class InvalidPhoneOtp(Unauthorized):
    code = "invalid_phone_otp"
    message = "短信验证码错误或已失效，请重新获取"

    def __init__(self, message: str | None = None):
        super().__init__(message, fields={"phone_otp": message or self.message})
