"""The catalogue routes: search, item guides, bundles (public: no login needed to read a guide)."""

from __future__ import annotations

from sanic import Blueprint

from api.catalog import service
from api.catalog.schemas import BundleGuide, BundlePage, ItemGuide, ItemPage
from api.catalog.search import score
from api.core.db import reads_replica
from api.core.http import doc, respond
from api.core.pagination import page_request, paginate

bp = Blueprint("catalog", url_prefix="/api/v1")


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.lower() in ("1", "true", "yes")


@bp.get("/items")
@doc("搜索服务事项（按名称、关键词，支持中文；可按部门、主题、是否跨省通办筛选）", response=ItemPage, errors=(422,),
     tag="catalog", description="q 中的词按整词和相邻两字匹配，名称命中优先；带 q 时同时返回匹配的一件事（bundles）。")
@reads_replica
async def search_items(request):
    catalogue = await service.current(redis=request.app.ctx.deps.redis)
    q = (request.args.get("q") or "").strip()[:50]
    dept, theme = request.args.get("dept"), request.args.get("theme")
    cross = _flag(request.args.get("cross_province"))
    items, bundles = catalogue.search(q=q, dept=dept, theme=theme, cross=cross)
    page = await paginate(items, page=page_request(request.args))
    return respond({**page.body(), "bundles": [] if request.args.get("cursor") else bundles})


@bp.get("/items/<code:code>")
@doc("办事指南：法律依据、材料（告知承诺、容缺、免提交）、表单、送达方式、收费", response=ItemGuide, errors=(404,),
     tag="catalog")
@reads_replica
async def item_guide(request, code: str):
    catalogue = await service.current(redis=request.app.ctx.deps.redis)
    return respond(catalogue.item(code).guide())


@bp.get("/bundles")
@doc("一件事列表（可带 q 搜索）", response=BundlePage, errors=(422,), tag="catalog")
@reads_replica
async def list_bundles(request):
    catalogue = await service.current(redis=request.app.ctx.deps.redis)
    q = (request.args.get("q") or "").strip()[:50]
    entries = [b.summary() for b in catalogue.bundles.values()
               if not q or score(q, name=b.name, keywords=b.keywords, extra=b.description) > 0]
    return respond((await paginate(entries, page=page_request(request.args))).body())


@bp.get("/bundles/<code:code>")
@doc("一件事详情：涉及的事项、合并后的表单和材料清单", response=BundleGuide, errors=(404,), tag="catalog")
@reads_replica
async def bundle_guide(request, code: str):
    catalogue = await service.current(redis=request.app.ctx.deps.redis)
    return respond(catalogue.bundle(code).guide())
