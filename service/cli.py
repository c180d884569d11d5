"""`fitbit-subscriber`: the service's command line."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from service import logs
from service.errors import ConfigError
from service.settings import Settings, get_settings

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        logs.configure_logging(settings)
        command: Command = args.command
        return command(args, settings)
    except ConfigError as exc:
        print(f"fitbit-subscriber: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"fitbit-subscriber: invalid setting: {_first_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = ".".join(str(part) for part in error["loc"]).upper()
    return f"{name}: {error['msg']}"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service import metrics
    from service.app import required

    settings.require(*required(settings))
    workers = args.workers or settings.web_concurrency
    # uvicorn restores the previous SIGTERM handler after its graceful shutdown and raises the
    # signal again; by then every request is answered, so that ends the process with status 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    with metrics.multiprocess_directory(workers):
        uvicorn.run(
            "service.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=workers,
            proxy_headers=True,
            log_level=settings.log_level.lower(),
            log_config=logs.logging_config(settings),
            timeout_graceful_shutdown=settings.api_shutdown_grace_seconds,
        )
    return 0


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from service.sync.worker import run_worker

    run_worker(settings)
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from service.store import migrate

    migrate.upgrade(settings.database, args.revision)
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from service import dev

    return dev.run(Path(args.data_dir), args.port, args.emulator_port)


def _emulator(args: argparse.Namespace, settings: Settings) -> int:
    from service.emulator.server import serve

    serve(args.host, args.port)
    return 0


def _clients(args: argparse.Namespace, settings: Settings) -> int:
    from service.api import commands

    return commands.run(args, settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fitbit-subscriber",
        description="Keeps a copy of Fitbit data current by push. Settings come from the "
        "environment (and .env); see the README.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API (webhook, internal API)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a container's front door
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None, help="default: WEB_CONCURRENCY")
    serve.set_defaults(command=_serve)

    worker = commands.add_parser("worker", help="run an arq worker (sync jobs, sweeper)")
    worker.set_defaults(command=_worker)

    migrate = commands.add_parser("migrate", help="bring the database schema to the newest")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(command=_migrate)

    dev = commands.add_parser("dev", help="run everything locally, with nothing configured")
    dev.add_argument("--data-dir", default=".local/dev", help="kept between runs")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--emulator-port", type=int, default=8090)
    dev.set_defaults(command=_dev)

    emulator = commands.add_parser("emulator", help="run the local Fitbit emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8090)
    emulator.set_defaults(command=_emulator)

    clients = commands.add_parser("clients", help="manage internal API clients (OAuth 2.0)")
    actions = clients.add_subparsers(title="actions", required=True, dest="action")
    create = actions.add_parser("create", help="create a client; prints its id and secret once")
    create.add_argument("name", help="who the client is, e.g. the downstream service's name")
    create.add_argument(
        "--scope", action="append", required=True, help="read, subscriptions:write (repeatable)"
    )
    actions.add_parser("list", help="list clients (never secrets)")
    revoke = actions.add_parser("revoke", help="revoke a client and every token it holds")
    revoke.add_argument("client_id")
    clients.set_defaults(command=_clients)

    from service.connect.commands import add_parsers
    from service.providers.google_health import commands as google_health_commands
    from service.sync import commands as sync_commands

    add_parsers(commands)
    sync_commands.add_parsers(commands)
    google_health_commands.add_parsers(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
