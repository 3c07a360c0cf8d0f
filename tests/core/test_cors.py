"""CORS headers only for origins on the allow-list (CORS_ORIGINS), on simple and preflight requests."""

import pytest

from api.core.settings import load_settings
from server import create_app
from tests.core.test_settings import SAFE

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080", "http://localhost"])
async def test_an_allowed_origin_gets_cors_headers(client, origin):
    simple = await client.get("/api/v1/items", headers={"Origin": origin})
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == origin
    assert "origin" in simple.headers["vary"].lower()
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    pre = await client.options("/api/v1/applications", headers={"Origin": origin, **PREFLIGHT})
    assert pre.status_code in (200, 204)
    assert pre.headers["access-control-allow-origin"] == origin
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in pre.headers  # bearer tokens, never cookies


@pytest.mark.parametrize("origin", ["https://evil.example.com", "https://servicewechat.com",
                                    "http://localhost.evil.example.com", "http://localhost:5173.evil.example.com",
                                    "null"])
async def test_a_refused_origin_gets_no_cors_headers(client, origin):
    simple = await client.get("/api/v1/items", headers={"Origin": origin})
    assert simple.status_code == 200  # the server answers; the browser withholds the answer from the page
    assert not any(k.lower().startswith("access-control-") for k in simple.headers)
    pre = await client.options("/api/v1/applications", headers={"Origin": origin, **PREFLIGHT})
    assert not any(k.lower().startswith("access-control-") for k in pre.headers)


def test_production_allows_no_origin_unless_configured():
    assert load_settings(**SAFE).cors_allow_list == []
    app = create_app(load_settings(**SAFE))
    assert app.ctx.cors.allow_origins == ()
    configured = load_settings(**SAFE, cors_origins="https://console.example.gov.cn, https://hall.example.gov.cn:8443")
    assert configured.cors_allow_list == ["https://console.example.gov.cn", "https://hall.example.gov.cn:8443"]
    patterns = create_app(configured).ctx.cors.allow_origins
    allowed = ("https://console.example.gov.cn", "https://hall.example.gov.cn:8443")
    refused = ("https://console.example.gov.cn.evil.com", "http://console.example.gov.cn", "http://localhost:5173",
               "https://hall.example.gov.cn")
    assert all(any(p.match(o) for p in patterns) for o in allowed)
    assert not any(p.match(o) for p in patterns for o in refused)


@pytest.mark.parametrize("value", ["*", "https://console.example.gov.cn/path", "console.example.gov.cn"])
def test_cors_origins_must_be_origins(value):
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        load_settings(cors_origins=value)
