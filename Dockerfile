# syntax=docker/dockerfile:1
# One image for every role; the command picks it:
#   docker run IMAGE serve | worker | migrate
# Settings come from the environment (README, "Configuration").

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# -- builder: a virtualenv with the locked runtime dependencies and the service, nothing else --
FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled now, because the running container's filesystem is read-only; the image's
# own interpreter, so the virtualenv works unchanged in the final stage.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lockfile changes. --no-dev leaves out
# the dev group (tests, linters, and through it the embedded PostgreSQL/Redis extra).
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-project
COPY README.md ./
COPY service ./service
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# -- runtime --------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to the service (which shuts down gracefully) and reaps
# orphans; Python as PID 1 would ignore signals it installs no handler for.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
# `migrate` finds alembic.ini in the working directory (the package is in site-packages here,
# not beside it), and alembic.ini finds migrations/ beside itself.
COPY alembic.ini ./
COPY migrations ./migrations
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WORKER_METRICS_HOST=0.0.0.0 \
    HEALTHCHECK_URL=http://127.0.0.1:8000/healthz
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8000 9100
# slim has no curl; the stdlib does. A worker container points HEALTHCHECK_URL at its metrics
# port (deploy/compose.yaml); Kubernetes ignores this and uses the probes in deploy/.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=3).status != 200)"]
ENTRYPOINT ["tini", "--", "fitbit-subscriber"]
CMD ["serve"]
