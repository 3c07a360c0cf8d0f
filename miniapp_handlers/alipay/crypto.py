"""Alipay's RSA2 signatures and the AES phone-number envelope (my.getPhoneNumber), on `cryptography`."""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_ZERO_IV = bytes(16)


class EnvelopeInvalid(ValueError):
    """The phone envelope is not signed by Alipay, or does not decrypt to a phone number."""


def load_private_key(pem: str):
    """An RSA private key from PKCS#1 or PKCS#8 PEM text."""
    return serialization.load_pem_private_key(_pem(pem, "PRIVATE KEY").encode(), password=None)


def load_public_key(pem: str):
    """An RSA public key from SubjectPublicKeyInfo PEM text (or its bare base64 body)."""
    return serialization.load_pem_public_key(_pem(pem, "PUBLIC KEY").encode())


def _pem(text: str, label: str) -> str:
    # Alipay's console hands out keys as one bare base64 line; accept those as well as PEM.
    text = text.strip()
    if text.startswith("-----"):
        return text
    body = "\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def sign_rsa2(private_key, message: str) -> str:
    """SHA256withRSA over the UTF-8 message, base64."""
    signature = private_key.sign(message.encode(), rsa_padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify_rsa2(public_key, message: str, signature: str) -> bool:
    """True when `signature` is SHA256withRSA over the message by the key's owner."""
    try:
        public_key.verify(base64.b64decode(signature, validate=False), message.encode(), rsa_padding.PKCS1v15(),
                          hashes.SHA256())
        return True
    except (InvalidSignature, binascii.Error, ValueError):
        return False


def signed_request_string(params: dict[str, str]) -> str:
    """The string a request is signed over: sorted `k=v` of every non-empty parameter but `sign`."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v not in (None, ""))


def aes_encrypt(aes_key_b64: str, plaintext: str) -> str:
    """AES-CBC with a zero IV and PKCS#7 padding, base64 (what Alipay does to the phone answer)."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(base64.b64decode(aes_key_b64)), modes.CBC(_ZERO_IV)).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


def aes_decrypt(aes_key_b64: str, ciphertext_b64: str) -> str:
    """The inverse of `aes_encrypt`."""
    dec = Cipher(algorithms.AES(base64.b64decode(aes_key_b64)), modes.CBC(_ZERO_IV)).decryptor()
    data = dec.update(base64.b64decode(ciphertext_b64)) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode()


def open_phone_envelope(envelope: dict | str, *, alipay_public_key, aes_key_b64: str):
    """The decrypted JSON inside a my.getPhoneNumber answer (`{"code": "10000", "mobile"}` when well formed),
    after checking Alipay's signature over it."""
    if isinstance(envelope, str):
        try:
            envelope = json.loads(envelope)
        except ValueError as exc:
            raise EnvelopeInvalid("not JSON") from exc
    if not isinstance(envelope, dict):
        raise EnvelopeInvalid("not an object")
    ciphertext, signature = envelope.get("response"), envelope.get("sign")
    if not isinstance(ciphertext, str) or not isinstance(signature, str):
        raise EnvelopeInvalid("response or sign missing")
    if envelope.get("sign_type", "RSA2") != "RSA2" or envelope.get("encrypt_type", "AES") != "AES":
        raise EnvelopeInvalid("unsupported sign_type or encrypt_type")
    # Alipay signs the ciphertext as a JSON string value, quotes included.
    if not verify_rsa2(alipay_public_key, f'"{ciphertext}"', signature):
        raise EnvelopeInvalid("signature")
    try:
        return json.loads(aes_decrypt(aes_key_b64, ciphertext))
    except (ValueError, binascii.Error) as exc:
        raise EnvelopeInvalid("decrypt") from exc


def phone_answer(phone: str) -> dict:
    """What my.getPhoneNumber's envelope holds for `phone`."""
    return {"code": "10000", "msg": "Success", "mobile": phone}


def seal_phone_envelope(answer: dict, *, alipay_private_key, aes_key_b64: str) -> dict:
    """A my.getPhoneNumber envelope around `answer` (see `phone_answer`), as Alipay would seal it (the sandbox's
    side)."""
    ciphertext = aes_encrypt(aes_key_b64, json.dumps(answer))
    return {"response": ciphertext, "sign": sign_rsa2(alipay_private_key, f'"{ciphertext}"'),
            "sign_type": "RSA2", "encrypt_type": "AES", "charset": "UTF-8"}
