"""What is applied for, and what its form must hold: the item's (or bundle's) schema, whole for an application or
partial for a draft, and masked values sent back unchanged."""

from __future__ import annotations

from dataclasses import dataclass

from api.applications.errors import FormInvalid
from api.applications.reads import mask_value
from api.catalog import forms as form_vocabulary
from api.catalog import service as catalog
from api.core.errors import ValidationFailed
from api.core.field_messages import jsonschema_problem

MAX_NAMED_EXTRAS = 20


@dataclass
class Target:
    """What is applied for: one item, or a bundle's items grouped by department."""

    code: str
    title: str
    is_bundle: bool
    groups: list[tuple[str, list]]  # (dept, items)
    materials: list[dict]
    validator: object
    min_assurance_level: int
    delivery_methods: list[str]
    cross_province: bool

    @property
    def schema(self) -> dict:
        """The form schema (a bundle's merged one)."""
        return self.validator.schema


async def target_of(body, *, redis) -> Target:
    """The item or bundle `body.item_code` / `body.bundle_code` names; 422 naming the field when there is none."""
    cat = await catalog.current(redis=redis)
    if body.item_code:
        item = cat.items.get(body.item_code)
        if item is None:
            raise ValidationFailed(fields={"item_code": "事项不存在"})
        return Target(item.code, item.name, False, [(item.dept, [item])], item.materials, item.validator,
                      item.min_assurance_level, item.delivery_methods, item.cross_province)
    bundle = cat.bundles.get(body.bundle_code)
    if bundle is None:
        raise ValidationFailed(fields={"bundle_code": "一件事不存在"})
    groups = [(d, [i for i in bundle.items if i.dept == d]) for d in bundle.depts]
    return Target(bundle.code, bundle.name, True, groups, bundle.materials, bundle.validator,
                  bundle.min_assurance_level, bundle.delivery_methods, bundle.cross_province)


def _message(error) -> str:
    if error.validator == "format" and error.validator_value == form_vocabulary.ID_NUMBER_FORMAT and error.cause:
        return str(error.cause)  # why the id number is not one (check digit, birth date ...), in Chinese
    return error.message


def check_form(validator, form: dict, *, partial: bool = False) -> None:
    """422 `form_invalid` with every broken field's path; `partial` (a draft) lets required fields be missing."""
    errors = sorted(validator.iter_errors(form), key=lambda e: list(e.absolute_path))
    if partial:
        errors = [e for e in errors if e.validator != "required"]
    if errors:
        fields = {}
        for e in errors:
            path = ".".join(str(p) for p in ("form", *e.absolute_path))
            if e.validator == "required":
                path = f"form.{e.message.split(chr(39))[1]}" if "'" in e.message else path
            if e.validator == "additionalProperties" and isinstance(e.instance, dict):
                known = e.schema.get("properties") or {}
                # Named one by one, but only the first few: a form of a million stray keys gets no million-line answer.
                for key in [k for k in e.instance if k not in known][:MAX_NAMED_EXTRAS]:
                    fields.setdefault(f"{path}.{key}", "表单中没有这个字段")
                continue
            if e.validator == "format":
                fields[path] = _message(e)  # the format's own reason beats a bare pattern mismatch
            else:
                fields.setdefault(path, jsonschema_problem(e))
        raise FormInvalid(fields=fields)


def keep_unchanged(given: dict, stored: dict) -> dict:
    """`given` with every value that is the masked form of the stored one replaced by the stored value: an answer
    showed it masked, and sending it back means "unchanged" (an agent, who never sees it in clear, finishes a
    draft this way)."""
    kept = dict(given)
    for key, value in given.items():
        if key in stored and isinstance(value, str) and isinstance(stored[key], str):
            masked = mask_value(key, stored[key])
            if masked != stored[key] and value == masked:
                kept[key] = stored[key]
    return kept
