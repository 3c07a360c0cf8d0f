"""Load generation: wrk when installed, else a keep-alive HTTP/1.1 client on raw asyncio streams."""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import subprocess
import time


def wrk_rps(url: str, *, seconds: int, connections: int, headers: dict[str, str]) -> float:
    """Requests per second that wrk measured."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url} answered {non2xx.group(1)} errors under load")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


async def _worker(host: str, port: int, request, deadline: float, counts: list[int], expect: int = 200) -> None:
    """Send requests on one keep-alive connection until the deadline; `request` is bytes or makes them."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request() if callable(request) else request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            body = await reader.readexactly(length)
            if status != expect:
                raise RuntimeError(f"status {status} under load: {body[:300]!r}")
            counts[0] += 1
    finally:
        writer.close()


async def post_rate(host: str, port: int, path: str, *, body: bytes, headers: dict[str, str], seconds: int,
                    connections: int, expect: int = 201, idempotent: bool = True) -> float:
    """Successful POSTs per second, each with a fresh Idempotency-Key (a new thing created every time) unless
    `idempotent` is false (a request that creates nothing a caller would retry, such as a scan)."""
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive",
            "Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    prefix = "\r\n".join(head)

    def request() -> bytes:
        return f"{prefix}\r\nIdempotency-Key: {secrets.token_hex(12)}\r\n\r\n".encode() + body

    plain = f"{prefix}\r\n\r\n".encode() + body
    counts = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_worker(host, port, request if idempotent else plain, deadline, counts, expect)
                           for _ in range(connections)))
    return counts[0] / (time.perf_counter() - started)


async def _python_rps(host: str, port: int, path: str, *, seconds: int, connections: int,
                      headers: dict[str, str]) -> float:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    counts = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_worker(host, port, request, deadline, counts) for _ in range(connections)))
    return counts[0] / (time.perf_counter() - started)


def measure_rps(host: str, port: int, path: str, *, seconds: int = 5, connections: int = 32,
                headers: dict[str, str] | None = None) -> tuple[float, str]:
    """Requests per second on GET `path`, and the tool that measured it."""
    headers = headers or {}
    if shutil.which("wrk"):
        return wrk_rps(f"http://{host}:{port}{path}", seconds=seconds, connections=connections, headers=headers), "wrk"
    rps = asyncio.run(_python_rps(host, port, path, seconds=seconds, connections=connections, headers=headers))
    return rps, "python"
