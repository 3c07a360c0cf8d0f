"""Message templates as data: one definition per message kind with a variant per channel (messages.json), and the
field types each platform accepts (value_types.json). Both are loaded and checked at start; rendering fits each
value to its field type (see fit.py)."""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from notifications.templates.fit import FieldError, fit

HERE = Path(__file__).resolve().parent
CHANNELS = ("wechat", "alipay", "sms", "inbox")
SMS_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

__all__ = ["HERE", "FieldError", "Rendered", "TemplateError", "Templates", "definition", "inbox_text", "load", "of"]


class TemplateError(ValueError):
    """A template that is wrong (at load), or a message that its template cannot render (at send)."""


@dataclass(frozen=True)
class Rendered:
    """One message as one channel sends it."""

    channel: str
    template_id: str | None = None  # WeChat/Alipay template id, SMS template code
    data: dict[str, str] = field(default_factory=dict)  # platform fields, SMS params
    title: str = ""  # the inbox
    body: str = ""


def _names(fmt: str) -> set[str]:
    """The params a str.format template uses (and only plain names: no attribute or index access)."""
    names = set()
    for _, name, spec, conv in string.Formatter().parse(fmt):
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise TemplateError(f"placeholder {{{name}}} must be a plain param name")
        names.add(name)
    return names


def _check(kind: str, d: dict, types: dict) -> None:
    where = f"message template {kind!r}"
    for key in ("topic", "params", "inbox"):
        if key not in d:
            raise TemplateError(f"{where}: no {key!r}")
    unknown = set(d) - {"topic", "important", "params", *CHANNELS}
    if unknown:
        raise TemplateError(f"{where}: unknown keys {sorted(unknown)}")
    params = set(d["params"])

    def uses(fmt: str, at: str) -> None:
        missing = _names(fmt) - params
        if missing:
            raise TemplateError(f"{where}.{at}: placeholders {sorted(missing)} are not among its params")

    for channel in ("wechat", "alipay"):
        v = d.get(channel)
        if v is None:
            continue
        if bool(v.get("template_id")) == bool(v.get("template_id_setting")):
            raise TemplateError(f"{where}.{channel}: give exactly one of template_id, template_id_setting")
        if channel == "wechat" and v.get("kind") not in ("one_time", "long_term"):
            raise TemplateError(f"{where}.wechat: kind must be one_time or long_term")
        if not v.get("fields"):
            raise TemplateError(f"{where}.{channel}: no fields")
        for key, f in v["fields"].items():
            spec = types[channel].get(f.get("type"))
            if spec is None:
                raise TemplateError(f"{where}.{channel}.{key}: unknown {channel} value type {f.get('type')!r}")
            if channel == "wechat" and not re.fullmatch(re.escape(f["type"]) + r"[0-9]+", key):
                raise TemplateError(f"{where}.wechat.{key}: a WeChat key is its type and a number, e.g. thing1")
            uses(f["value"], f"{channel}.{key}")
            if "default" in f:
                try:
                    fit(f["default"], spec)
                except FieldError as exc:
                    raise TemplateError(f"{where}.{channel}.{key}: default does not fit: {exc}") from exc
            if not _names(f["value"]):  # a constant must fit its own field
                try:
                    fit(f["value"], spec)
                except FieldError as exc:
                    raise TemplateError(f"{where}.{channel}.{key}: constant does not fit: {exc}") from exc
    sms = d.get("sms")
    if sms is not None:
        if bool(sms.get("template_code")) == bool(sms.get("template_code_setting")):
            raise TemplateError(f"{where}.sms: give exactly one of template_code, template_code_setting")
        slots = set(SMS_PLACEHOLDER.findall(sms.get("text", "")))
        if not sms.get("text") or slots != set(sms.get("params", {})):
            raise TemplateError(f"{where}.sms: the text's ${{...}} slots and the params differ")
        for key, p in sms["params"].items():
            if not 0 < p.get("max", 0) <= types["sms"]["param"]["max"]:
                raise TemplateError(f"{where}.sms.{key}: max must be 1..{types['sms']['param']['max']}")
            uses(p["value"], f"sms.{key}")
    uses(d["inbox"].get("title", ""), "inbox.title")
    uses(d["inbox"].get("body", ""), "inbox.body")


@lru_cache(maxsize=1)
def load(directory: Path = HERE) -> tuple[dict, dict]:
    """(definitions, value types) from the data files, checked; TemplateError names what is wrong."""
    types = json.loads((directory / "value_types.json").read_text(encoding="utf-8"))
    messages = json.loads((directory / "messages.json").read_text(encoding="utf-8"))
    types.pop("_doc", None)
    messages.pop("_doc", None)
    for channel, table in types.items():
        for name, spec in table.items():
            if isinstance(spec, dict):
                if spec.get("rule") not in ("text", "phrase", "pattern"):
                    raise TemplateError(f"value type {channel}.{name}: unknown rule {spec.get('rule')!r}")
                if spec["rule"] == "pattern":
                    re.compile(spec["pattern"])
    for kind, d in messages.items():
        _check(kind, d, types)
    return messages, types


class Templates:
    """The checked templates bound to one process's settings (template ids, the SMS signature)."""

    def __init__(self, settings: Any, directory: Path = HERE):
        self.messages, self.types = load(directory)
        self.settings = settings
        overrides = getattr(settings, "message_template_ids", None) or {}
        unknown = {k for k in overrides if k.partition(".")[2] not in self.messages}
        if unknown:
            raise TemplateError(f"MESSAGE_TEMPLATE_IDS names unknown message kinds: {sorted(unknown)}")
        self._overrides = overrides
        segment = self.types["sms"]["segment_chars"]
        for kind, d in self.messages.items():
            sms = d.get("sms")
            if sms:
                longest = len(settings.sms_sign_name) + 2 + len(SMS_PLACEHOLDER.sub("", sms["text"])) + sum(
                    p["max"] for p in sms["params"].values())
                if longest > segment:
                    raise TemplateError(f"message template {kind!r}.sms: up to {longest} characters with the "
                                        f"signature 【{settings.sms_sign_name}】, over one segment of {segment}")
            for channel in CHANNELS:
                if channel in d and channel != "inbox" and not self.template_id(kind, channel):
                    raise TemplateError(f"message template {kind!r}.{channel}: its template id setting is empty")
                if channel in d and channel != "inbox" and getattr(settings, "production", False) \
                        and self._sandbox_id(kind, channel):
                    raise TemplateError(f"message template {kind!r}.{channel}: the sandbox's id "
                                        f"{self.template_id(kind, channel)!r} in production; set "
                                        f"MESSAGE_TEMPLATE_IDS[\"{channel}.{kind}\"] or its setting")

    def _sandbox_id(self, kind: str, channel: str) -> bool:
        """True when the variant's id is the sandbox's: the literal id in messages.json, or a setting's default
        (the real platforms know neither, so every such message would fail in production)."""
        if self._overrides.get(f"{channel}.{kind}"):
            return False
        v = self.messages[kind][channel]
        setting = v.get("template_id_setting") or v.get("template_code_setting")
        if not setting:
            return True
        field_info = type(self.settings).model_fields.get(setting) if hasattr(self.settings, "model_fields") else None
        return field_info is not None and getattr(self.settings, setting) == field_info.default

    def template_id(self, kind: str, channel: str) -> str | None:
        """The platform template id (SMS: template code) of a kind's variant on a channel."""
        v = self.messages[kind].get(channel)
        if v is None:
            return None
        override = self._overrides.get(f"{channel}.{kind}")
        if override:
            return override
        setting = v.get("template_id_setting") or v.get("template_code_setting")
        return getattr(self.settings, setting) if setting else v.get("template_id") or v.get("template_code")

    def catalogue(self) -> list[dict]:
        """Every WeChat and Alipay template a front end may ask consent for (one row per platform and id)."""
        rows: dict[tuple[str, str], dict] = {}
        for kind, d in self.messages.items():
            for platform in ("wechat", "alipay"):
                v = d.get(platform)
                if v is None:
                    continue
                tid = self.template_id(kind, platform)
                row = rows.setdefault((platform, tid), {
                    "platform": platform, "template_id": tid, "topic": d["topic"],
                    "kind": v.get("kind") or d.get("wechat", {}).get("kind", "one_time"),
                    "fields": {}})
                row["fields"].update({k: f["type"] for k, f in v["fields"].items()})
        return sorted(rows.values(), key=lambda r: (r["platform"], r["template_id"]))

    def render(self, kind: str, channel: str, params: dict[str, Any]) -> Rendered:
        """The message of `kind` on `channel` from `params`; TemplateError when a value cannot be made to fit."""
        d = self.messages.get(kind)
        if d is None:
            raise TemplateError(f"no message template {kind!r}")
        missing = set(d["params"]) - set(params)
        if missing:
            raise TemplateError(f"{kind}: params {sorted(missing)} not given")
        values = {k: "" if v is None else str(v) for k, v in params.items()}
        if channel == "inbox":
            return inbox_text(kind, params)
        v = d.get(channel)
        if v is None:
            raise TemplateError(f"{kind} has no {channel} variant")
        if channel == "sms":
            spec = self.types["sms"]["param"]
            data = {k: self._fit(kind, channel, k, p["value"].format_map(values), {**spec, "max": p["max"]}, p)
                    for k, p in v["params"].items()}
        else:
            data = {k: self._fit(kind, channel, k, f["value"].format_map(values), self.types[channel][f["type"]], f)
                    for k, f in v["fields"].items()}
        return Rendered(channel=channel, template_id=self.template_id(kind, channel), data=data)

    @staticmethod
    def _fit(kind: str, channel: str, key: str, value: str, spec: dict, f: dict) -> str:
        try:
            return fit(value, spec)
        except FieldError as exc:
            if "default" in f:
                return f["default"]
            raise TemplateError(f"{kind}.{channel}.{key}: {exc}") from exc


def definition(kind: str) -> dict:
    """The checked definition of a message kind (topic, importance, params, variants); TemplateError if unknown."""
    d = load()[0].get(kind)
    if d is None:
        raise TemplateError(f"no message template {kind!r}")
    return d


def inbox_text(kind: str, params: dict[str, Any]) -> Rendered:
    """The inbox message of `kind` from `params` (needs no settings: the inbox has no template ids)."""
    d = definition(kind)
    missing = set(d["params"]) - set(params)
    if missing:
        raise TemplateError(f"{kind}: params {sorted(missing)} not given")
    values = {k: "" if v is None else str(v) for k, v in params.items()}
    types = load()[1]["inbox"]
    return Rendered(channel="inbox", title=fit(d["inbox"]["title"].format_map(values), types["title"]),
                    body=fit(d["inbox"]["body"].format_map(values), types["body"]))


def of(deps: Any) -> Templates:
    """The process's templates, bound to its settings the first time they are asked for (at start-up)."""
    return deps.derived("notifications.templates", lambda d: Templates(d.settings))
