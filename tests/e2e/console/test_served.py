"""The console is served by the app itself: its page, its hashed assets, and nothing from the internet."""

import re

from tests.e2e.console.conftest import DIST


async def test_the_console_page_and_its_assets_are_served_with_a_strict_policy(client):
    r = await client.get("/console", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/console/"
    r = await client.get("/console/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assets = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', r.text)
    assert assets and assets == re.findall(r'(?:src|href)="([^"]+)"', r.text)  # every reference is our own
    for path in assets:
        a = await client.get(path)
        assert a.status_code == 200 and a.content, path
    assert (await client.get("/console/assets/no-such-file.js")).status_code == 404


def test_the_built_console_names_no_address_outside_the_app():
    # Stylesheets and the page may only load what the app serves (fonts, images, scripts).
    for path in [DIST, *DIST.parent.glob("assets/*.css")]:
        text = path.read_text(encoding="utf-8")
        assert not re.findall(r"url\(\s*['\"]?(?:https?:)?//", text), path
        assert not re.findall(r"(?:src|href)=\"(?:https?:)?//", text), path
