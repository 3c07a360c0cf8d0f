"""Loading the catalogue file (the command line and the demo seed)."""

from __future__ import annotations

import json
from pathlib import Path

from api.catalog import service
from api.core.redis import create_async_redis
from api.core.settings import Settings

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "catalogue.json"


async def load_file(*, settings: Settings, path: Path | None = None) -> dict:
    """Load a catalogue JSON file into the database and tell running workers (through Redis) to reload."""
    data = json.loads((path or DEFAULT_FILE).read_text(encoding="utf-8"))
    redis = create_async_redis(settings)
    try:
        return await service.load_catalogue(data=data, redis=redis)
    finally:
        await redis.aclose()
