"""`fitbit-subscriber emulator`: the emulator under uvicorn, in one process (its state lives
in memory, so never more than one worker)."""

from __future__ import annotations

import logging
import os

import uvicorn

from service.emulator.app import create_emulator_app
from service.emulator.config import EmulatorConfig
from service.emulator.google.config import GoogleConfig

log = logging.getLogger("service.emulator")


def serve(host: str, port: int) -> None:
    config = EmulatorConfig.from_env(os.environ)
    google = GoogleConfig.from_env(os.environ)
    log.warning(
        "Fitbit emulator on http://%s:%d: client_id=%s, pushing to %s; control API at "
        "/_emulator (docs at /_emulator/docs)",
        host,
        port,
        config.client_id,
        config.subscriber_url,
    )
    log.warning(
        "Google Health API on the same port: client_id=%s, project %s, keyset at %s",
        google.client_id,
        google.project_number,
        google.keyset_path,
    )
    level = os.environ.get("LOG_LEVEL", "info").lower()
    uvicorn.run(
        create_emulator_app(config, google), host=host, port=port, log_level=level, ws="none"
    )
