"""JSON logs with the request id, scrubbed of anything that looks like personal data (tracebacks included)."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import threading

import structlog

from api.core import pii

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def _add_request_id(_, __, event_dict):
    rid = request_id_var.get()
    if rid and "request_id" not in event_dict:
        event_dict["request_id"] = rid
    return event_dict


HAN = "\u4e00-\u9fff\u3400-\u4dbf"
# A name: a run of 2 to 4 Chinese characters standing alone (张三, 欧阳娜娜), or a run of any length with the middle
# dot of minority and foreign names (阿依古丽·买买提); a word as short as a name is masked too (no rule tells them
# apart). Longer runs are sentences and stay readable, and a run already masked (张*) is left as it is.
_NAME_RUN = re.compile(rf"(?<![{HAN}·])[{HAN}](?:[{HAN}]{{1,3}}|[{HAN}·]*·[{HAN}·]*)(?![{HAN}·*])")
# The value of a key that names a name, of any length: 'applicant_name': '阿依古丽买买提', name=张三丰之徒.
_NAMED_VALUE = re.compile(rf"((?:name|姓名)['\"]?\s*[:=：]\s*['\"“]?)([{HAN}·]+)", re.IGNORECASE)
# Chinese written as escapes in a repr or ASCII JSON: \u5f20\u4e09, or UTF-8 bytes \xe5\xbc\xa0\xe4\xb8\x89.
_ESCAPED_HAN = re.compile(r"(?:\\u(?:[4-9][0-9a-fA-F]{3}|3[4-9a-fA-F][0-9a-fA-F]{2})|"
                          r"\\x[eE][3-9a-fA-F]\\x[89abAB][0-9a-fA-F]\\x[89abAB][0-9a-fA-F]){2,}")
_PHONE_86 = re.compile(r"(?<![\d+])\+?86[- ]?(1[3-9]\d{9})(?!\d)")


def _mask_escaped(match: re.Match) -> str:
    text = match.group(0)
    first = re.match(r"\\u[0-9a-fA-F]{4}|(?:\\x[0-9a-fA-F]{2}){3}", text).group(0)
    return first + "*" * (len(re.findall(r"\\u|\\x[eE]", text)) - 1)


def scrub(text: str) -> str:
    """Masks what looks like personal data in a log line's text (an exception's message and traceback too): id
    numbers, phone numbers (with +86 or not) and names (see _NAME_RUN, _NAMED_VALUE, _ESCAPED_HAN)."""
    text = _PHONE_86.sub(lambda m: pii.mask_phone(m.group(1)), text)
    text = pii.scrub(text)
    text = _NAMED_VALUE.sub(lambda m: m.group(1) + pii.mask_name(m.group(2)), text)
    text = _NAME_RUN.sub(lambda m: pii.mask_name(m.group(0)), text)
    return _ESCAPED_HAN.sub(_mask_escaped, text)


def _scrubbed(value):
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrubbed(v) for v in value]
    return scrub(repr(value))  # what the JSON renderer would write for it, scrubbed first


def _scrub_event(_, __, event_dict):
    # Defence in depth: code must not log personal data, and this masks it if some does. It runs after the
    # exception and stack are rendered to text, so a traceback and an exception's message are scrubbed like the rest.
    return {key: value if key.startswith("_") else _scrubbed(value) for key, value in event_dict.items()}


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
        record.msg = scrub(str(record.msg))
        return True


def _log_uncaught(exc_type, exc, tb) -> None:
    # An exception nothing caught (the main thread, another thread) is logged like the rest, not printed raw.
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logging.getLogger("uncaught").critical("uncaught_exception", exc_info=(exc_type, exc, tb))


def _log_uncaught_in_thread(args) -> None:
    if args.exc_type is SystemExit:
        return
    _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def configure_logging(level: str = "INFO", stream=None) -> None:
    """Route structlog and stdlib (Sanic's own loggers too) through one JSON renderer."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
        _add_request_id,
    ]
    # The chain is changed in place: a logger cached on first use holds this very list, and a second configuration
    # in one process (the command line's, run in-process) would otherwise leave it on the old one, out of reach of
    # structlog.testing.capture_logs (which edits the configured list; tests/core/test_cron_outage.py saw nothing).
    chain = structlog.get_config()["processors"]
    chain[:] = [*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    structlog.configure(
        processors=chain,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _scrub_event,
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
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def get_logger(name: str):
    """A structlog logger."""
    return structlog.get_logger(name)
