"""/docs works with no internet: the page names only this server's addresses, and each of them answers."""

import re

from swagger_ui_bundle import swagger_ui_path


async def test_docs_reference_only_local_urls_that_answer(client):
    r = await client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    urls = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r'url:\s*"([^"]+)"', page)
    assert "/openapi.json" in urls and any(u.endswith("swagger-ui-bundle.js") for u in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        answer = await client.get(url)
        assert answer.status_code == 200, url
        assert answer.content, url
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    assert script.content == (swagger_ui_path / "swagger-ui-bundle.js").read_bytes()  # the package's own file
    assert "css" in (await client.get("/docs/assets/swagger-ui.css")).headers["content-type"]


async def test_the_page_asks_no_online_validator(client):
    # Swagger UI's default badge calls validator.swagger.io with the spec: off.
    assert "validatorUrl: null" in (await client.get("/docs")).text


async def test_docs_assets_serve_nothing_outside_the_package(client):
    for path in ("/docs/assets/../../server.py", "/docs/assets/%2e%2e/%2e%2e/__init__.py",
                 "/docs/assets/nothing.js"):
        assert (await client.get(path)).status_code == 404, path
