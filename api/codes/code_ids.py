"""Rotating pseudonymous code ids: one AES block sealing the holder number, the issue time and random bits.

Every code gets a new id that no one without the server's key can link to a person or to another code,
while the server opens any id (even one uploaded by an offline terminal a week later) without storing it.
A single block under a fixed key is a keyed permutation; the random bits keep two ids from ever repeating.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CodeIds:
    """Seals and opens code ids with a key derived from the blind-index secret."""

    def __init__(self, secret: bytes):
        key = hmac.new(secret, b"codes.code_id", hashlib.sha256).digest()[:16]
        self._cipher = Cipher(algorithms.AES(key), modes.ECB())

    def seal(self, *, holder_id: int, issued_at: int) -> bytes:
        """A fresh 16-byte id for a code of this holder issued at `issued_at` (epoch seconds)."""
        block = struct.pack(">QI", holder_id, issued_at & 0xFFFFFFFF) + os.urandom(4)
        enc = self._cipher.encryptor()
        return enc.update(block) + enc.finalize()

    def open(self, code_id: bytes) -> tuple[int, int]:
        """The holder number and issue time inside an id; ValueError if it is not 16 bytes."""
        if len(code_id) != 16:
            raise ValueError("a code id is 16 bytes")
        dec = self._cipher.decryptor()
        holder_id, issued_at = struct.unpack(">QI", (dec.update(code_id) + dec.finalize())[:12])
        return holder_id, issued_at
