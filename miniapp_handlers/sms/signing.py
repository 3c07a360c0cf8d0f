"""Aliyun RPC request signing (HMAC-SHA256), shared by the SMS client and its sandbox twin."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SIGNATURE_METHOD = "HMAC-SHA256"


def percent_encode(value: str) -> str:
    """Aliyun's percent-encoding: UTF-8, only RFC 3986 unreserved characters left as they are."""
    return quote(value, safe="~")


def signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The request's Signature: base64 HMAC-SHA256 over `METHOD&%2F&` + the encoded, sorted query."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
                     if k != "Signature")
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    # Aliyun keys the HMAC with the secret followed by "&".
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
