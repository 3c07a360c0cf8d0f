"""The outbound providers: the mini-program platforms (WeChat, Alipay) behind one interface, the SMS provider on
the same base, and their sandbox twins."""

from __future__ import annotations

from api.core.settings import Settings
from miniapp_handlers.base import Provider


def create_platforms(settings: Settings) -> dict[str, Provider]:
    """One client per provider ("wechat", "alipay", "sms"), pointed at the real hosts or the sandbox by settings."""
    # Imported here for start-up cost: the SDKs load only in processes that make clients, not in those that
    # serve the sandboxes or import the interface.
    from miniapp_handlers.alipay.client import AlipayPlatform
    from miniapp_handlers.sms.client import SmsClient
    from miniapp_handlers.wechat.client import WeChatPlatform

    return {"wechat": WeChatPlatform(settings), "alipay": AlipayPlatform(settings), "sms": SmsClient(settings)}


async def close_platforms(platforms: dict[str, Provider]) -> None:
    """Release every provider's resources."""
    for platform in platforms.values():
        await platform.close()
