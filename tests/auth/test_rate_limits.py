"""Rate limits on the login routes, per address and per platform account."""

import contextlib

import pytest

from tests.factories import wechat_codes


@contextlib.contextmanager
def limits(live, **values):
    """Temporarily lower the live app's limits."""
    settings = live.app.ctx.deps.settings
    old = {k: getattr(settings, k) for k in values}
    for k, v in values.items():
        setattr(settings, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(settings, k, v)


@pytest.mark.parametrize("path,body", [("/api/v1/auth/wechat/login", {"code": "x"}),
                                       ("/api/v1/auth/alipay/login", {"auth_code": "x"})])
async def test_login_per_address_is_429(client, live, path, body):
    with limits(live, login_rate_per_ip=3):
        statuses = [(await client.post(path, json=body)).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


async def test_login_per_account_is_429(client, live):
    with limits(live, login_rate_per_account=2):
        statuses = []
        for _ in range(3):
            codes = await wechat_codes(client, openid="o-rate-limited-account")
            statuses.append((await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})).status_code)
    assert statuses == [200, 200, 429]


async def test_other_addresses_are_not_limited_by_one_noisy_one(client, live):
    with limits(live, login_rate_per_ip=1):
        await client.post("/api/v1/auth/wechat/login", json={"code": "x"})
        r = await client.post("/api/v1/auth/wechat/login", json={"code": "x"})
        assert r.status_code == 429
        other = await client.post("/api/v1/auth/wechat/login", json={"code": "x"},
                                  headers={"X-Forwarded-For": "127.99.99.99"})
        assert other.status_code == 401
