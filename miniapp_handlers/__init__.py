"""The mini-program platforms (WeChat, Alipay) behind one interface, and their sandbox twins."""

from __future__ import annotations

from api.core.settings import Settings
from miniapp_handlers.base import Platform


def create_platforms(settings: Settings) -> dict[str, Platform]:
    """One client per platform, pointed at the real hosts or the sandbox by settings."""
    # Start-up cost: the SDKs (wechatpy, python-alipay-sdk) load only in processes that call the platforms.
    from miniapp_handlers.alipay.client import AlipayPlatform
    from miniapp_handlers.wechat.client import WeChatPlatform

    return {"wechat": WeChatPlatform(settings), "alipay": AlipayPlatform(settings)}


async def close_platforms(platforms: dict[str, Platform]) -> None:
    """Release every platform's resources."""
    for platform in platforms.values():
        await platform.close()
