"""Uploads: the type is decided by the content, not the name; size-limited; hashed; encrypted at rest."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from api.applications.models import StoredFile
from api.core import pii
from api.core.errors import AppError, NotFound
from api.core.storage import FileStorage

MAX_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_CLAIMS = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


class FileTooLarge(AppError):
    status, code, message = 413, "file_too_large", "文件不能超过 10 MiB"


class UnsupportedFile(AppError):
    status, code, message = 415, "unsupported_file_type", "仅支持 PDF、JPEG、PNG 文件"


class FileTypeMismatch(AppError):
    status, code, message = 422, "file_type_mismatch", "文件内容与声明的类型不符"


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (PDF, JPEG or PNG), or None."""
    for magic, content_type in _SIGNATURES:
        if data.startswith(magic):
            if content_type == "application/pdf" and b"%%EOF" not in data[-2048:]:
                return None  # a truncated or fake PDF
            return content_type
    return None


def claimed_type(*, filename: str | None, content_type: str | None) -> str | None:
    """What the client says the file is: its declared type, else its name's extension."""
    if content_type and content_type in _CLAIMS.values():
        return content_type
    if filename and "." in filename:
        return _CLAIMS.get(filename[filename.rfind("."):].lower())
    return None


def _seal(data: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(data).hexdigest(), pii.cipher().encrypt_bytes(data, context="upload")


async def save_upload(*, storage: FileStorage, owner_id: str, uploaded_by: str, data: bytes,
                      filename: str | None, content_type: str | None) -> StoredFile:
    """Check, hash, encrypt and store an upload for `owner_id`."""
    if len(data) > MAX_BYTES:
        raise FileTooLarge()
    actual = sniff(data)
    claimed = claimed_type(filename=filename, content_type=content_type)
    if actual is None:
        raise FileTypeMismatch() if claimed else UnsupportedFile()
    if claimed and claimed != actual:
        raise FileTypeMismatch()
    digest, sealed = await asyncio.to_thread(_seal, data)  # hashing and encrypting 10 MiB takes milliseconds
    key = secrets.token_hex(16)
    await storage.put(key, sealed)
    return await StoredFile.create(owner_id=owner_id, uploaded_by=uploaded_by, sha256=digest, size=len(data),
                                   content_type=actual, storage_key=key)


async def owned_file(*, file_id: str, owner_id: str) -> StoredFile:
    """The file if it belongs to `owner_id`; 404 otherwise (someone else's file does not exist for you)."""
    row = await StoredFile.get_or_none(id=file_id, owner_id=owner_id)
    if row is None:
        raise NotFound("文件不存在")
    return row


async def read_upload(*, storage: FileStorage, row: StoredFile) -> bytes:
    """The plaintext of a stored upload."""
    sealed = await storage.get(row.storage_key)
    return await asyncio.to_thread(pii.cipher().decrypt_bytes, sealed, context="upload")
