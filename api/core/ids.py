"""Opaque identifiers: a short type prefix and 128 random bits, never a countable sequence."""

import secrets


def new_id(prefix: str) -> str:
    """A new opaque id such as `cit_3k9v...`."""
    return f"{prefix}_{secrets.token_urlsafe(16).replace('-', 'x').replace('_', 'y')}"
