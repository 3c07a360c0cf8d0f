"""JSON logs with the request id, scrubbed of anything that looks like personal data."""

from __future__ import annotations

import contextvars
import logging
import sys

import structlog

from api.core import pii

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def _add_request_id(_, __, event_dict):
    rid = request_id_var.get()
    if rid and "request_id" not in event_dict:
        event_dict["request_id"] = rid
    return event_dict


def _scrub_event(_, __, event_dict):
    # Defence in depth: code must not log personal data, and this masks it if some does.
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = pii.scrub(value)
    return event_dict


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            return True  # a structlog event: _scrub_event masks it field by field
        if record.args:
            try:
                record.msg = record.getMessage()
            except Exception:  # a malformed log call must not break the request
                record.msg = str(record.msg)
            record.args = None
        record.msg = pii.scrub(str(record.msg))
        return True


def configure_logging(level: str = "INFO", stream=None) -> None:
    """Route structlog and stdlib (Sanic's own loggers too) through one JSON renderer."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
        _add_request_id,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _scrub_event,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_ScrubFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_gov_json", False):
            root.removeHandler(old)
    handler._gov_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True


def get_logger(name: str):
    """A structlog logger."""
    return structlog.get_logger(name)
