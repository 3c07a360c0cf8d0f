"""The staff console (console/, a Vue app built by Vite) served under /console/ by the same app: no CDN, no internet."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint
from sanic.response import file, html, redirect
from sanic_ext import openapi

DIST = Path(__file__).resolve().parents[2] / "console" / "dist"

# The console only talks to this origin; materials are shown from blob: URLs made of what the API returned.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "frame-src 'self' blob:; object-src 'self' blob:; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_NOT_BUILT = """<!DOCTYPE html><html lang="zh-CN"><meta charset="UTF-8"><title>管理后台未构建</title>
<p>管理后台尚未构建：请运行 <code>make run</code>（或 <code>make console</code>）后刷新。</p></html>"""

console = Blueprint("console")
if (DIST / "assets").is_dir():
    # Hashed file names: a file never changes under its name.
    console.static("/console/assets", str(DIST / "assets"), name="assets")


@console.get("/console", strict_slashes=True)
@openapi.exclude()
async def console_root(request):
    return redirect("/console/")


@console.get("/console/", strict_slashes=True)
@openapi.exclude()
async def console_page(request):
    index = DIST / "index.html"
    if not index.is_file():
        return html(_NOT_BUILT, status=503, headers={"Retry-After": "60"})
    return await file(index, headers=_PAGE_HEADERS, mime_type="text/html; charset=utf-8")
