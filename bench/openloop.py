"""An open-loop load generator: POSTs pre-signed bodies at a fixed rate, whatever the answers.

Request i is due at `start + i / rate` and is sent then (on an idle keep-alive connection, or a
new one), never held back by a slow answer: latency is measured from the time the request was
*due*, so a stall counts in full for every request it delays (no coordinated omission). How late
the generator itself dispatched each request is reported too, to show whether it kept up.

Run as its own process (`python -m bench.openloop ...`); prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import percentile

REQUEST_TIMEOUT = 10.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds from due to answered
    lags: list[float] = field(default_factory=list)  # seconds from due to written
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0


class Pool:
    """Keep-alive HTTP/1.1 connections to one host; grows up to `limit`, then requests wait."""

    def __init__(self, port: int, limit: int) -> None:
        self.port = port
        self.limit = limit
        self.opened = 0
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.opened += 1
        try:
            return await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            self.opened -= 1
            raise

    async def acquire(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle.empty() and self.opened < self.limit:
            return await self.open()
        return await self.idle.get()

    def release(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.idle.put_nowait(connection)

    def discard(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.opened -= 1
        connection[1].close()


def requests(bodies: Path, path: str) -> list[bytes]:
    made = []
    for line in bodies.read_text().splitlines():
        signature, body = line.split("\t", 1)
        payload = body.encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Fitbit-Signature: {signature}\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        made.append(head.encode() + payload)
    return made


async def exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> tuple[int, bool]:
    """Send one request, read its answer; return the status and whether to keep the connection."""
    reader, writer = connection
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if "chunked" in headers.get("transfer-encoding", ""):
        return status, False
    if length := int(headers.get("content-length", "0")):
        await reader.readexactly(length)
    return status, headers.get("connection") != "close"


async def one(
    pool: Pool, request: bytes, due: float, tally: Tally | None, loop: asyncio.AbstractEventLoop
) -> None:
    connection = None
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            connection = await pool.acquire()
            written = time.perf_counter()
            status, keep = await exchange(connection, request)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
        if connection is not None:
            pool.discard(connection)
        if tally is not None:
            tally.errors += 1
        return
    if keep:
        pool.release(connection)
    else:
        pool.discard(connection)
    if tally is not None:
        tally.latencies.append(time.perf_counter() - due)
        tally.lags.append(written - due)
        tally.statuses[str(status)] = tally.statuses.get(str(status), 0) + 1


async def generate(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    made = requests(Path(args.bodies), args.path)
    pool = Pool(args.port, args.max_connections)
    for connection in await asyncio.gather(*(pool.open() for _ in range(args.connections))):
        pool.release(connection)
    tally = Tally()
    warmup = int(args.warmup * args.rate)
    total = warmup + int(args.seconds * args.rate)
    start = time.perf_counter() + 0.1
    tasks = set()
    for i in range(total):
        due = start + i / args.rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(
            one(pool, made[i % len(made)], due, tally if i >= warmup else None, loop)
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    dispatched = time.perf_counter() - (start + warmup / args.rate)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(REQUEST_TIMEOUT + 1):
            await asyncio.gather(*tasks)
    measured = total - warmup
    ok = sum(n for status, n in tally.statuses.items() if status.startswith("2"))
    return {
        "offered_rate": args.rate,
        "requests": measured,
        "achieved_rate": measured / dispatched if dispatched > 0 else 0.0,
        "answered": len(tally.latencies),
        "ok": ok,
        "non_2xx": len(tally.latencies) - ok,
        # Refused, reset or unanswered within REQUEST_TIMEOUT.
        "errors": measured - len(tally.latencies),
        "statuses": tally.statuses,
        "connections_opened": pool.opened,
        "p50_ms": percentile(tally.latencies, 0.50) * 1000,
        "p99_ms": percentile(tally.latencies, 0.99) * 1000,
        "p999_ms": percentile(tally.latencies, 0.999) * 1000,
        "max_ms": max(tally.latencies, default=0.0) * 1000,
        "dispatch_lag_p99_ms": percentile(tally.lags, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", required=True, help="lines of '<signature>\\t<body>'")
    parser.add_argument("--path", default="/fitbit/webhook")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2, help="seconds sent, not measured")
    parser.add_argument("--connections", type=int, default=32, help="opened before the start")
    parser.add_argument("--max-connections", type=int, default=512)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):  # uvloop comes with uvicorn[standard]
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    print(json.dumps(asyncio.run(generate(args))), flush=True)


if __name__ == "__main__":
    main()
