"""The application factory and the command line: run | migrate | worker | seed-demo | import | load-catalogue |
load-calendar | create-admin."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

os.environ.setdefault("TZ", "Asia/Shanghai")  # both platform SDKs stamp requests with local time

from sanic import Sanic
from sanic.worker.loader import AppLoader
from sanic_ext import Extend
from sanic_ext.config import PRIORITY as EXTENSION_PRIORITY
from sanic_ext.extensions.http.extension import HTTPExtension

from api import cli
from api.certificates.ca import ensure_demo_ca
from api.certificates.types import all_types
from api.core import app_setup, docs, drain
from api.core.logging import configure_logging
from api.core.settings import Settings, load_settings
from bootstrap import close_deps, open_deps
from worker import InlineWorker

API_TITLE = "gov-miniapp API"  # ASCII: client generators derive the package name from it
API_DESCRIPTION = """政务服务小程序后端（微信、支付宝）的公开接口。

- 错误体统一为 {"error": {"code", "message", "request_id", "fields"?}}（组件 ErrorBody），
  HTTP 状态码即错误类别：校验错误为 422，fields 以中文逐项说明（键为字段路径，如 materials.0.file_id）；
  请求体不是合法 JSON 为 400 invalid_json；路径不支持的请求方法为 405，Allow 头列出支持的方法。
- 时间一律为北京时间 ISO 8601，带 +08:00（如 2025-03-01T09:30:00+08:00）；日期为 YYYY-MM-DD。
- 列表分页用 ?limit=（默认 20，最多 100）与 ?cursor=，应答 {"items": [...], "next_cursor": ...}。
- 个人信息（姓名、手机号、身份证号）在应答中默认脱敏。
- 访问令牌的验签公钥（JWKS）：/api/v1/auth/jwks.json。"""


def create_app(settings: Settings | None = None) -> Sanic:
    """Build the Sanic app for these settings (from the environment when omitted); no I/O happens here."""
    settings = settings or load_settings()
    settings.check_production()
    configure_logging(settings.log_level)
    app = Sanic("gov_miniapp", dumps=None, configure_logging=False)  # workers look the app up by this name
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.PROXIES_COUNT = settings.trusted_proxies
    app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024
    app.config.OAS_URL_PREFIX = "/docs"
    # sanic-ext's own UI pages load Swagger UI from a CDN: /docs is api.core.docs, served from a package.
    app.config.OAS_UI_DEFAULT = None
    app.config.OAS_UI_SWAGGER = False
    app.config.OAS_UI_REDOC = False
    app.config.OAS_AUTODOC = False
    app.config.API_TITLE = API_TITLE
    app.config.API_VERSION = "1.0"
    app.config.API_DESCRIPTION = API_DESCRIPTION
    app.config.CORS_ORIGINS = settings.cors_allow_list
    app.config.CORS_ALWAYS_SEND = False  # CORS headers only for browsers, which name their Origin
    app.config.CORS_EXPOSE_HEADERS = "x-request-id,retry-after,allow"
    app.ctx.settings = settings
    drain.install(app, settings.shutdown_grace_seconds)
    _register(app, settings)
    return app


def _register(app: Sanic, settings: Settings) -> None:
    # Start-up cost: building the routes' documentation takes seconds; the command line's other subcommands
    # (migrate, import, create-admin...) never build the app.
    from api.admin.console import console as console_bp
    from api.admin.views import bp as admin_bp
    from api.applications.admin_views import bp as applications_admin_bp
    from api.applications.dashboard_views import bp as applications_dashboards_bp
    from api.applications.views import bp as applications_bp
    from api.catalog.views import bp as catalog_bp
    from api.certificates.dashboard_views import bp as certificates_dashboards_bp
    from api.certificates.views import admin_bp as certificates_admin_bp
    from api.certificates.views import bp as certificates_bp
    from api.citizens.admin_views import bp as registry_admin_bp
    from api.citizens.views import bp as citizens_bp
    from api.codes.dashboard_views import bp as codes_dashboards_bp
    from api.codes.views import admin_bp as codes_admin_bp
    from api.codes.views import bp as codes_bp
    from api.policies.admin_views import bp as policies_admin_bp
    from api.policies.dashboard_views import bp as policies_dashboards_bp
    from api.policies.views import bp as policies_bp
    from auth.views import bp as auth_bp
    from auth.views import staff_accounts_bp
    from auth.views import staff_bp as staff_auth_bp
    from miniapp_handlers.sandbox import create_sandbox_blueprint
    from notifications.dashboard_views import bp as messages_dashboards_bp
    from notifications.views import bp as inbox_bp

    # Only the documentation and CORS: the others (dependency injection, health monitor, logging queue)
    # are unused here and injection alone dispatches a signal on every request.
    Extend(app, extensions=[docs.OpenAPIWithoutPages, HTTPExtension], built_in_extensions=False)
    _batch_auto_routes(app)
    app.ext.openapi.add_security_scheme("citizen", "http", scheme="bearer", bearer_format="JWT")
    app.ext.openapi.add_security_scheme("admin", "http", scheme="bearer", bearer_format="JWT")
    app.ext.openapi.add_security_scheme("terminal", "apiKey", name="Authorization", location="header")
    app.ext.openapi.add_security_scheme("metrics", "http", scheme="bearer")
    app_setup.install(app)
    for bp in (app_setup.ops, docs.docs, auth_bp, citizens_bp, admin_bp, catalog_bp, applications_bp,
               applications_admin_bp, inbox_bp, certificates_bp, certificates_admin_bp, registry_admin_bp,
               policies_bp, policies_admin_bp, codes_bp, codes_admin_bp, staff_auth_bp, staff_accounts_bp,
               applications_dashboards_bp, certificates_dashboards_bp, codes_dashboards_bp, policies_dashboards_bp,
               messages_dashboards_bp,
               console_bp):
        app.blueprint(bp)
    if settings.miniapp_sandbox:
        app.blueprint(create_sandbox_blueprint(settings))
    app.before_server_start(_open)
    app.after_server_stop(_close)


def _batch_auto_routes(app: Sanic) -> None:
    """Let the HTTP extension add its OPTIONS and HEAD routes with the signal router rebuilt once, not per route."""
    # Each route added after start re-renders the signal router when it is finalized: about 170 renders, seconds of
    # start-up for every worker. Unfinalized while the extension adds them, then finalized once.
    @app.before_server_start(priority=EXTENSION_PRIORITY + 1)
    async def _hold(app):
        app.signal_router.reset()

    @app.before_server_start(priority=EXTENSION_PRIORITY - 1)
    async def _release(app):
        app.signalize(app.config.TOUCHUP)


async def _open(app: Sanic) -> None:
    deps = app.ctx.deps = await open_deps(app.ctx.settings)
    app.ctx.settings = deps.settings  # with the generated development keys filled in
    if not deps.settings.production:
        ensure_demo_ca(deps.settings.certificate_ca_dir, {t.dept: t.issuer for t in all_types().values()})
    app.ctx.inline_worker = None
    if deps.settings.works_jobs_inline:
        start_inline_worker(app)


def start_inline_worker(app: Sanic) -> None:
    """Work the job queue inside this server process, with the app's own connections and clients."""
    worker = InlineWorker(app.ctx.deps)
    worker.start()
    app.ctx.inline_worker = worker


async def _close(app: Sanic) -> None:
    await drain.settle(app)  # a handler still holding a database connection would make the pool's close wait
    if app.ctx.inline_worker is not None:
        await app.ctx.inline_worker.stop()
    await close_deps(app.ctx.deps)


def _serve(settings: Settings) -> None:
    loader = AppLoader(factory=create_app)
    app = loader.load()
    print(f"API docs: {settings.public_base_url}/docs   OpenAPI: {settings.public_base_url}/openapi.json")
    print(f"Staff console: {settings.public_base_url}/console/")
    if settings.miniapp_sandbox:
        print(f"Sandbox: POST {settings.public_base_url}/sandbox/wechat/codes, "
              f"POST {settings.public_base_url}/sandbox/alipay/codes, GET .../messages")
    app.prepare(host=settings.host, port=settings.port, workers=settings.workers, single_process=settings.workers == 1,
                backlog=settings.listen_backlog, access_log=False, motd=False)
    drain.main_process_signals(app)
    Sanic.serve(primary=app, app_loader=loader)


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="server.py", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="serve the API (the default)")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("worker", help="run the background job worker")
    seed = sub.add_parser("seed-demo", help="fill the registries with synthetic people and an admin")
    seed.add_argument("--people", type=int, default=200)
    imp = sub.add_parser("import", help="import a registry dataset from CSV")
    imp.add_argument("dataset")
    imp.add_argument("file")
    cat = sub.add_parser("load-catalogue", help="load the service catalogue (items, bundles) from its JSON file")
    cat.add_argument("file", nargs="?", help="default: api/catalog/data/catalogue.json")
    cal = sub.add_parser("load-calendar", help="load one year's official holidays and make-up working days (JSON: "
                                               '{"year", "source", "days": [{"date", "kind": "holiday"|"workday", '
                                               '"name"}]}), replacing that year')
    cal.add_argument("file")
    adm = sub.add_parser("create-admin", help="create or update a staff account")
    adm.add_argument("--username", required=True)
    adm.add_argument("--password", required=True)
    adm.add_argument("--role", required=True, action="append")
    adm.add_argument("--dept", action="append", default=[])
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command in (None, "run"):
        _serve(settings)
        return 0
    if args.command == "worker":
        return cli.run_worker(settings)
    return asyncio.run(cli.dispatch(args, settings))


if __name__ == "__main__":
    sys.exit(main())
