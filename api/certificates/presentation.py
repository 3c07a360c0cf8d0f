"""亮证 payloads: compact, short-lived, Ed25519-signed statements of the fields a holder chose to show."""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

PREFIX = "GP1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PresentationKey:
    """Signs presentations and checks them (the public half can be published for offline checks)."""

    def __init__(self, private_pem: str):
        self.private = serialization.load_pem_private_key(private_pem.encode(), password=None)
        self.public = self.private.public_key()

    def seal(self, claims: dict) -> str:
        """`GP1.<claims>.<signature>`."""
        body = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
        signature = _b64(self.private.sign(f"{PREFIX}.{body}".encode()))
        return f"{PREFIX}.{body}.{signature}"

    def open(self, payload: str) -> dict | None:
        """The claims of an authentic payload, or None for anything altered or malformed."""
        try:
            prefix, body, signature = payload.split(".")
            if prefix != PREFIX:
                return None
            self.public.verify(_unb64(signature), f"{prefix}.{body}".encode())
            claims = json.loads(_unb64(body))
        except (ValueError, InvalidSignature, binascii.Error):
            return None
        return claims if isinstance(claims, dict) else None
