"""The worker baseline: arq's own rate for no-op jobs, with the service worker's settings
(poll_delay, max_jobs, keep_result=0, job_timeout) on the same Redis. Run as its own process
(`python -m bench.noop --jobs N`); prints one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from arq import func
from arq.connections import create_pool
from arq.worker import Worker

from bench.common import redis_url
from service import queue
from service.settings import Settings

QUEUE = "fitbit_subscriber:bench-noop"
marks: list[float] = []


async def noop(ctx: dict[str, Any]) -> None:
    marks.append(time.perf_counter())


async def measure(jobs: int) -> dict[str, float]:
    settings = Settings.model_validate({"redis_url": redis_url()})
    redis = await create_pool(queue.redis_settings(settings.redis_url))
    try:
        await redis.delete(QUEUE)
        for start in range(0, jobs, 500):
            await asyncio.gather(
                *(
                    redis.enqueue_job("noop", _job_id=f"noop-{i}", _queue_name=QUEUE)
                    for i in range(start, min(start + 500, jobs))
                )
            )
    finally:
        await redis.aclose()
    worker = Worker(
        functions=[func(noop, name="noop")],
        redis_settings=queue.redis_settings(settings.redis_url),
        queue_name=QUEUE,
        burst=True,
        keep_result=0,
        poll_delay=settings.poll_delay,
        max_jobs=settings.max_jobs,
        job_timeout=settings.job_timeout,
        handle_signals=False,
    )
    cpu = time.process_time()
    try:
        await worker.main()
    finally:
        await worker.close()
    cpu = time.process_time() - cpu
    elapsed = marks[-1] - marks[0] if len(marks) > 1 else 0.0
    return {
        "jobs": len(marks),
        "seconds": elapsed,
        "rate": (len(marks) - 1) / elapsed,
        "cpu_ms": cpu / max(len(marks), 1) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5000)
    print(json.dumps(asyncio.run(measure(parser.parse_args().jobs))), flush=True)


if __name__ == "__main__":
    main()
