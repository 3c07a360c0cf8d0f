"""/metrics is not public: the allowed networks (loopback by default) or the bearer token of METRICS_TOKEN."""

import contextlib

import httpx
import pytest

OUTSIDE = {"X-Forwarded-For": "203.0.113.7"}


@contextlib.contextmanager
def _settings(live, **values):
    settings = live.app.ctx.deps.settings
    saved = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


async def test_loopback_scrapes_and_others_are_refused(client):
    inside = await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert inside.status_code == 200 and "http_requests_total" in inside.text
    assert inside.headers["content-type"].startswith("text/plain")
    outside = await client.get("/metrics", headers=OUTSIDE)
    assert outside.status_code == 403
    assert outside.json()["error"]["code"] == "forbidden"
    assert "http_requests_total" not in outside.text
    ipv6 = await client.get("/metrics", headers={"X-Forwarded-For": "2001:db8::1"})
    assert ipv6.status_code == 403


async def test_an_allowed_network_scrapes_without_a_token(client, live):
    with _settings(live, metrics_allow_networks="10.20.0.0/16"):
        assert (await client.get("/metrics", headers={"X-Forwarded-For": "10.20.3.4"})).status_code == 200
        assert (await client.get("/metrics", headers={"X-Forwarded-For": "10.21.3.4"})).status_code == 403
        assert (await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status_code == 403


async def test_the_bearer_token_opens_metrics_from_anywhere(client, live):
    with _settings(live, metrics_token="s3cret-scrape-token-0123456789"):
        ok = await client.get("/metrics", headers={**OUTSIDE, "Authorization": "Bearer s3cret-scrape-token-0123456789"})
        assert ok.status_code == 200 and "http_requests_total" in ok.text
        for wrong in ("Bearer s3cret-scrape-token-012345678", "Bearer", "Basic czNjcmV0", "s3cret-scrape-token"):
            r = await client.get("/metrics", headers={**OUTSIDE, "Authorization": wrong})
            assert r.status_code == 403, wrong
    # No token configured: no Authorization header opens it, an empty one neither.
    for header in ("Bearer", "Bearer s3cret-scrape-token-0123456789"):
        assert (await client.get("/metrics", headers={**OUTSIDE, "Authorization": header})).status_code == 403


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
async def test_through_a_proxy_it_does_not_trust_a_loopback_peer_is_no_scraper(client, live, header):
    # With TRUSTED_PROXIES=0, a request a local reverse proxy passed on comes from 127.0.0.1 whoever sent it.
    saved = live.app.config.PROXIES_COUNT
    live.app.config.PROXIES_COUNT = 0
    try:
        value = "for=203.0.113.7" if header == "Forwarded" else "203.0.113.7"
        assert (await client.get("/metrics", headers={header: value})).status_code == 403
        async with httpx.AsyncClient(base_url=live.base_url) as direct:  # no forwarding header
            assert (await direct.get("/metrics")).status_code == 200
    finally:
        live.app.config.PROXIES_COUNT = saved
