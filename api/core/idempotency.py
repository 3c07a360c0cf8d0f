"""Idempotency-Key: the same key and body answer the first response again; another body is 409."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.core.errors import Conflict, ValidationFailed
from api.core.models import IdempotencyRecord

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")


class IdempotencyConflict(Conflict):
    code, message = "idempotency_conflict", "该 Idempotency-Key 已用于内容不同的请求"


def check_key(key: str | None) -> str | None:
    """The header's key, or None when absent; 422 when malformed."""
    if key is None or key == "":
        return None
    if not _KEY.match(key):
        raise ValidationFailed(fields={"Idempotency-Key": "8 到 128 位字母、数字或 _.:-"})
    return key


def body_hash(body: dict) -> str:
    """A hash of the request that ignores key order and whitespace."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
                          ).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> tuple[int, dict]:
    if record.body_hash != digest:
        raise IdempotencyConflict()
    return record.status, record.response


async def run_once(*, scope: str, key: str | None, body: dict,
                   create: Callable[[], Awaitable[tuple[int, dict]]], look_first: bool = False) -> tuple[int, dict]:
    """Run `create` (inside one transaction with the record) at most once per scope and key.

    `look_first` answers a replay before running `create`: for creations whose checks a replay would fail
    (publishing refuses while the first request's campaign runs)."""
    if look_first and key is not None:
        seen = await IdempotencyRecord.get_or_none(scope=scope, key=key)
        if seen is not None:
            return _replay(seen, body_hash(body))
    if key is None:
        async with in_transaction():
            return await create()
    digest = body_hash(body)
    # No look-up first: a first request (the common case) pays one insert; a replay finds the key taken.
    try:
        async with in_transaction():
            status, response = await create()
            await IdempotencyRecord.create(scope=scope, key=key, body_hash=digest, status=status, response=response)
    except IntegrityError:
        # The key was used before (or by a concurrent request that committed first): ours rolled back.
        existing = await IdempotencyRecord.get_or_none(scope=scope, key=key)
        if existing is None:
            raise
        return _replay(existing, digest)
    return status, response
