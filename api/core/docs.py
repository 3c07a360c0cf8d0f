"""Swagger UI at /docs, its assets served by the app from the swagger-ui-bundle package: no CDN, no internet."""

from __future__ import annotations

from sanic import Blueprint
from sanic.response import html
from sanic_ext import openapi
from sanic_ext.extensions.openapi.extension import OpenAPIExtension
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"

PAGE = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="UTF-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>gov-miniapp API 文档</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      validatorUrl: null
    }});
  </script>
</body>
</html>
"""

docs = Blueprint("docs")
docs.static(ASSETS, str(swagger_ui_path), name="assets")


@docs.get("/docs")
@openapi.exclude()
async def swagger_ui(request):
    return html(PAGE)


class OpenAPIWithoutPages(OpenAPIExtension):
    """sanic-ext's OpenAPI extension (it collects the operations) with its CDN pages turned off
    (`OAS_UI_SWAGGER = False`): its start-up line names /docs rather than a page it no longer has."""

    name = "openapidocs"  # each extension class has a name of its own

    def label(self):
        return "/docs"
