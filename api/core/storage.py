"""Where uploaded bytes live: an interface, and the local-disk implementation under DATA_DIR/uploads."""

from __future__ import annotations

import abc
import asyncio
import os
from pathlib import Path


class FileStorage(abc.ABC):
    """A blob store keyed by opaque keys (an object store would sit behind the same two calls)."""

    @abc.abstractmethod
    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` durably."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes:
        """The bytes stored under `key`."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove what is stored under `key` (nothing happens when there is nothing)."""


class LocalDiskStorage(FileStorage):
    """Files under one folder, sharded by the key's first characters; writes are atomic renames."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    async def put(self, key: str, data: bytes) -> None:
        """Write in a thread: disks block."""
        await asyncio.to_thread(self._write, key, data)

    async def get(self, key: str) -> bytes:
        """Read in a thread."""
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        """Remove the file, if it is there."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
