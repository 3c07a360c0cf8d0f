"""Prometheus metrics of the HTTP layer."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

registry = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "http_requests_total", "HTTP requests by route and status", ["method", "route", "status"], registry=registry
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)
UPSTREAM = Histogram(
    "upstream_call_duration_seconds",
    "Calls to WeChat and Alipay by platform, operation and outcome",
    ["platform", "operation", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)


_request_series: dict[tuple[str, str, int], tuple] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count a request and its latency under its method, route template and status."""
    # labels() validates and locks on every call; the series of a route are looked up once.
    series = _request_series.get((method, route, status))
    if series is None:
        series = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        if len(_request_series) < 4096:  # routes are templates, but methods are whatever clients send
            _request_series[(method, route, status)] = series
    series[0].inc()
    series[1].observe(seconds)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
