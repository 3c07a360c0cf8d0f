"""WeChat mini-program client (wechatpy)."""
