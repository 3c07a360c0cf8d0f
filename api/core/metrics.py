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


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
