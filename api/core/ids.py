"""Opaque identifiers: a short type prefix and 128 random bits, never a countable sequence (rows written in bulk:
the millisecond and 80 random bits, `ordered_id` and its SQL twin `rawsql.ordered_id_sql`)."""

import base64
import os
import re
import threading
import time

# Random bytes are drawn from the OS 4 KiB at a time: one getrandom call serves 256 ids instead of one each
# (under load the per-call cost showed in every request's profile).
_CHUNK = 4096
_buffer = b""
_offset = 0
_lock = threading.Lock()  # ids are also made in worker threads


def _forget_buffer() -> None:
    global _buffer, _offset, _lock
    _buffer, _offset, _lock = b"", 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_buffer)  # a forked child must never reuse its parent's bytes


def random_bytes(n: int) -> bytes:
    """`n` bytes from the OS's CSPRNG (each byte handed out once)."""
    global _buffer, _offset
    with _lock:
        if _offset + n > len(_buffer):
            _buffer, _offset = os.urandom(max(_CHUNK, n)), 0
        _offset += n
        return _buffer[_offset - n:_offset]


MAX_LENGTH = 40  # the width of every id column (api.core.models.keyed)


# The route parameter types of every path segment that names a row (see app_setup.register_path_types): an id is the
# shape new_id makes, a code (a catalogue code, a certificate serial) fits its 32-character column.
ID_PATTERN = re.compile(rf"[A-Za-z0-9_]{{1,{MAX_LENGTH}}}")
CODE_MAX_LENGTH = 32
CODE_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{CODE_MAX_LENGTH}}}")


def could_be_id(value: str) -> bool:
    """False for a string no id column could hold: look it up only when True (a longer one fails the ORM's check)."""
    return 0 < len(value) <= MAX_LENGTH


def new_id(prefix: str) -> str:
    """A new opaque id such as `cit_3k9v...`."""
    token = base64.urlsafe_b64encode(random_bytes(16)).rstrip(b"=").decode()
    return f"{prefix}_{token.replace('-', 'x').replace('_', 'y')}"


def ordered_id(prefix: str) -> str:
    """An id whose text sorts by the millisecond it was made, then 80 random bits (`pop_1a2371...`): rows written in
    bulk append to their primary key's index instead of landing on random pages of it. Still not countable, but it
    tells when a row was made: only for rows whose answers show that time anyway or show nothing (registry rows; a
    campaign's grants, whose `granted_at` is their creation, and deliveries)."""
    return f"{prefix}_{time.time_ns() // 1_000_000:011x}{random_bytes(10).hex()}"


def request_id() -> str:
    """A new request id: 32 hex digits."""
    return random_bytes(16).hex()
