"""Key material: from settings, or generated once under DATA_DIR/keys for development."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from api.core.settings import Settings


def _pem_private(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem_of(private_pem: str) -> str:
    """The SubjectPublicKeyInfo PEM of a private key PEM."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _load_or_create(path: Path, make) -> str:
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = make()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o600)
    # Two workers may race here on first start: the first rename wins, both read the winner.
    if not path.exists():
        tmp.rename(path)
    else:
        tmp.unlink()
    return path.read_text()


def ensure_keys(settings: Settings) -> Settings:
    """Fill unset development keys from DATA_DIR/keys (created on first use)."""
    if settings.production:
        return settings
    keys = settings.data_dir / "keys"
    updates = {}
    if not settings.jwt_private_key:
        updates["jwt_private_key"] = _load_or_create(
            keys / "jwt_ed25519.pem", lambda: _pem_private(ed25519.Ed25519PrivateKey.generate())
        )
    if not settings.presentation_private_key:
        updates["presentation_private_key"] = _load_or_create(
            keys / "presentation_ed25519.pem", lambda: _pem_private(ed25519.Ed25519PrivateKey.generate())
        )
    if settings.certificate_ca_dir is None:
        updates["certificate_ca_dir"] = keys / "ca"
    rsa_key = lambda: _pem_private(rsa.generate_private_key(public_exponent=65537, key_size=2048))  # noqa: E731
    if not settings.alipay_app_private_key:
        updates["alipay_app_private_key"] = _load_or_create(keys / "alipay_app_private.pem", rsa_key)
    if not settings.sandbox_alipay_private_key:
        updates["sandbox_alipay_private_key"] = _load_or_create(keys / "alipay_platform_private.pem", rsa_key)
    if not settings.alipay_public_key:
        updates["alipay_public_key"] = public_pem_of(
            updates.get("sandbox_alipay_private_key") or settings.sandbox_alipay_private_key
        )
    if not settings.alipay_aes_key:
        updates["alipay_aes_key"] = _load_or_create(
            keys / "alipay_aes.key", lambda: base64.b64encode(os.urandom(16)).decode()
        ).strip()
    return settings.model_copy(update=updates)
