"""Prometheus metrics: the names are a contract with the Grafana dashboard and alerts.

Every name starts with `fitbit_subscriber_`; labels never carry a user id (a million users would
be a million series). Record through the helpers below, not the objects, so call sites stay
one line and label values stay in their small sets.

API (`GET /metrics`):
  notifications_received_total{provider,collection}  items committed to the audit log
  signature_failures_total{provider,reason}          pushes refused: missing/malformed/mismatch
  bad_requests_total{provider,reason}                pushes refused: 400/413/415, by error code
  ingest_unavailable_total{provider}                 pushes answered 503 (the provider retries)
  ingest_seconds                                     commit + enqueue time of one push
Worker (`WORKER_METRICS_PORT`):
  sync_requests{status}                              pending / failed rows in sync_request
  queue_depth                                        jobs in the arq queue (incl. running, deferred)
  jobs_total{function,outcome}                       success / retry / cancelled / failed
  job_seconds{function}                              job duration
  provider_calls_total{provider,endpoint,status}     calls to the provider by endpoint template
  rate_limited_total{provider}                       429 answers
  rate_budget_remaining{provider}                    histogram: calls left after each answer
  token_refreshes_total{provider,outcome}            ok / invalid_grant / conflict / unavailable

Several uvicorn workers share one `/metrics` through `PROMETHEUS_MULTIPROC_DIR` (prometheus
client's multiprocess mode); `serve` sets it up when it starts more than one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from service.providers.base import ReceivedChange

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# `_created` timestamps double the series and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

NOTIFICATIONS_RECEIVED = Counter(
    "fitbit_subscriber_notifications_received",
    "Notification items committed to the audit log.",
    ["provider", "collection"],
)
SIGNATURE_FAILURES = Counter(
    "fitbit_subscriber_signature_failures",
    "Pushes refused for a missing, malformed or wrong signature.",
    ["provider", "reason"],
)
BAD_REQUESTS = Counter(
    "fitbit_subscriber_bad_requests",
    "Pushes refused as malformed (400), too large (413) or not JSON (415).",
    ["provider", "reason"],
)
INGEST_UNAVAILABLE = Counter(
    "fitbit_subscriber_ingest_unavailable",
    "Pushes answered 503 because the database did not commit in time.",
    ["provider"],
)
INGEST_SECONDS = Histogram(
    "fitbit_subscriber_ingest_seconds",
    "Time to commit a push's items and queue their syncs.",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8),
)
SYNC_REQUESTS = Gauge(
    "fitbit_subscriber_sync_requests",
    "Sync requests by status (pending, failed), counted every minute.",
    ["status"],
    multiprocess_mode="max",
)
QUEUE_DEPTH = Gauge(
    "fitbit_subscriber_queue_depth",
    "Jobs in the arq queue, running and deferred ones included.",
    multiprocess_mode="max",
)
JOBS = Counter(
    "fitbit_subscriber_jobs",
    "Finished job runs by outcome: success, retry, cancelled, failed.",
    ["function", "outcome"],
)
JOB_SECONDS = Histogram(
    "fitbit_subscriber_job_seconds",
    "Duration of a job run.",
    ["function"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PROVIDER_CALLS = Counter(
    "fitbit_subscriber_provider_calls",
    "Calls to a provider's API by endpoint template and HTTP status ('error': no answer).",
    ["provider", "endpoint", "status"],
)
RATE_LIMITED = Counter(
    "fitbit_subscriber_rate_limited",
    "429 answers from a provider.",
    ["provider"],
)
RATE_BUDGET_REMAINING = Histogram(
    "fitbit_subscriber_rate_budget_remaining",
    "A user's calls left in the window, as each provider answer reports it.",
    ["provider"],
    buckets=(0, 5, 10, 20, 30, 50, 75, 100, 125, 150),
)
TOKEN_REFRESHES = Counter(
    "fitbit_subscriber_token_refreshes",
    "Access token refreshes by outcome: ok, invalid_grant, conflict, unavailable, error.",
    ["provider", "outcome"],
)


def ingested(changes: Iterable[ReceivedChange], seconds: float) -> None:
    """A push's items committed (and their syncs queued) in `seconds`."""
    INGEST_SECONDS.observe(seconds)
    for (provider, collection), count in Tally((c.provider, c.collection) for c in changes).items():
        NOTIFICATIONS_RECEIVED.labels(provider, collection).inc(count)


def signature_failed(provider: str, reason: str) -> None:
    SIGNATURE_FAILURES.labels(provider, reason).inc()


def push_refused(provider: str, status: int, code: str) -> None:
    """A push answered with an error: 503 means not recorded, anything else a bad request."""
    if status >= 500:
        INGEST_UNAVAILABLE.labels(provider).inc()
    else:
        BAD_REQUESTS.labels(provider, code).inc()


def job_finished(function: str, outcome: str, seconds: float) -> None:
    JOBS.labels(function, outcome).inc()
    JOB_SECONDS.labels(function).observe(seconds)


def provider_call(provider: str, endpoint: str, status: int | str) -> None:
    """One call made. `endpoint` is a template ("activities/date"), never a URL with ids."""
    PROVIDER_CALLS.labels(provider, endpoint, str(status)).inc()
    if status == 429:
        RATE_LIMITED.labels(provider).inc()


def rate_budget_seen(provider: str, remaining: int) -> None:
    RATE_BUDGET_REMAINING.labels(provider).observe(remaining)


def token_refreshed(provider: str, outcome: str) -> None:
    TOKEN_REFRESHES.labels(provider, outcome).inc()


@contextmanager
def multiprocess_directory(processes: int) -> Iterator[None]:
    """Let `processes` uvicorn workers share one `/metrics` (prometheus multiprocess mode).

    Each worker writes its samples to files in `PROMETHEUS_MULTIPROC_DIR`, and whichever one
    answers a scrape sums them. The directory must start empty, or a previous run's counters
    would be added in: an operator's directory is emptied, otherwise a temporary one is made.
    """
    given = os.environ.get(MULTIPROC_VARIABLE)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    if processes <= 1:
        yield
        return
    directory = tempfile.mkdtemp(prefix="fitbit-subscriber-metrics-")
    os.environ[MULTIPROC_VARIABLE] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROC_VARIABLE]
        shutil.rmtree(directory, ignore_errors=True)


def exposition() -> bytes:
    """This process's metrics, or all uvicorn workers' in multiprocess mode."""
    if os.environ.get(MULTIPROC_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus text format. A plain `def`: multiprocess collection reads files."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
