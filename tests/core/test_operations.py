"""Health, readiness, metrics, the OpenAPI document and the error body."""

import re

from tests.factories import wechat_login


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "redis": "ok", "calendar": "ok"}


async def test_metrics_count_requests(client):
    await client.get("/healthz")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="healthz",status="200"}' in text


async def test_unknown_route_has_the_error_body_and_request_id(client):
    r = await client.get("/api/v1/nothing-here", headers={"X-Request-ID": "req-test-0001"})
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "请求的地址不存在", "request_id": "req-test-0001"}}
    assert r.headers["X-Request-ID"] == "req-test-0001"


async def test_every_api_route_is_documented_with_shapes(client, live):
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for route in live.app.router.routes:
        path = "/" + route.path.strip("/")
        if not path.startswith(("/api/", "/sandbox/")):
            continue
        oas_path = re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", path)
        assert oas_path in paths, oas_path
        for method in route.methods - {"OPTIONS", "HEAD"}:
            op = paths[oas_path][method.lower()]
            assert op.get("summary"), (oas_path, method)
            assert any(code.isdigit() for code in op["responses"]), (oas_path, method)
            if method == "POST" and any(k in oas_path for k in ("login", "real-name", "refresh")):
                assert "requestBody" in op, (oas_path, method)
    assert (await client.get("/docs")).status_code in (200, 301, 302, 307, 308)


async def test_cross_origin_preflight_is_answered(client):
    # The test settings keep the development default: a console on this machine (another port) is allowed.
    r = await client.options("/api/v1/me", headers={"Origin": "http://localhost:5173",
                                                     "Access-Control-Request-Method": "GET"})
    assert r.status_code in (200, 204)
    assert r.headers.get("access-control-allow-origin") == "http://localhost:5173"
    assert "GET" in r.headers.get("access-control-allow-methods", "")


async def test_cors_headers_go_to_browsers_only(client):
    browser = await client.get("/healthz", headers={"Origin": "http://127.0.0.1:8080"})
    assert browser.headers.get("access-control-allow-origin") == "http://127.0.0.1:8080"
    # A mini-program, a terminal or a server names no Origin and needs no CORS headers.
    app = await client.get("/healthz")
    assert app.status_code == 200
    assert not any(k.lower().startswith("access-control-") for k in app.headers)


async def test_login_answers_are_json_in_chinese(client):
    r = await client.post("/api/v1/auth/wechat/login", json={"code": "nope"})
    assert "登录凭证" in r.text  # not \u-escaped
    await wechat_login(client)
