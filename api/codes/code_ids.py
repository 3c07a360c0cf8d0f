"""Rotating pseudonymous code ids: one AES block sealing the holder number and the issue second.

Every second gives a new id that no one without the server's key can link to a person or to another
code, while the server opens any id (even one uploaded by an offline terminal a week later) without
storing it. A single block under a fixed key is a keyed permutation of unique inputs. Being
deterministic, the ids a holder may still be showing can be listed when they freeze their code: one
per second of a code's lifetime, with nothing written when a code is issued.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CodeIds:
    """Seals and opens code ids with a key derived from the blind-index secret."""

    def __init__(self, secret: bytes):
        key = hmac.new(secret, b"codes.code_id", hashlib.sha256).digest()[:16]
        cipher = Cipher(algorithms.AES(key), modes.ECB())
        # ECB treats every block alone, so one long-lived context serves every call (never finalized).
        self._encrypt, self._decrypt = cipher.encryptor().update, cipher.decryptor().update

    def seal(self, *, holder_id: int, issued_at: int) -> bytes:
        """The 16-byte id of this holder's code issued at `issued_at` (epoch seconds)."""
        block = struct.pack(">QII", holder_id, issued_at & 0xFFFFFFFF, 0)
        return self._encrypt(block)

    def open(self, code_id: bytes) -> tuple[int, int]:
        """The holder number and issue time inside an id; ValueError if it is not 16 bytes."""
        if len(code_id) != 16:
            raise ValueError("a code id is 16 bytes")
        holder_id, issued_at, pad = struct.unpack(">QII", self._decrypt(code_id))
        if pad:
            raise ValueError("not a code id")
        return holder_id, issued_at
