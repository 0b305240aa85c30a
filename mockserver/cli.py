"""The `mockserver` command: `mockserver serve` and its options (the docs' reference is made from this table)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .config import ConfigError, Settings
from .serving import logs

OPTIONS = (
    # flag, setting, help
    ("--host", "host", "address to bind (default 127.0.0.1; 0.0.0.0 in the Docker image)"),
    ("--port", "port", "port (default 8080; 0 picks a free one and prints it)"),
    ("--store", "store", "memory (default) or tinydb"),
    ("--db", "db", "the TinyDB file with --store tinydb (default mockserver.json)"),
    ("--seed", "seed", "seed of every ID, Faker value and fault probability (default 42)"),
    ("--fixtures", "fixtures", "a folder laid out like fixtures/ to seed from (default: the shipped ones)"),
    ("--scenario", "scenario", "a scenario of fixtures/scenarios to apply at start-up"),
    ("--control-token", "control_token", "require X-Mock-Token on /__mock (all but health)"),
    ("--journal-size", "journal_size", "requests kept in the journal, 1-100,000 (default 1000)"),
    ("--log-level", "log_level", "debug, info (default: one access line per request), warning, error"),
    ("--max-tenants", "max_tenants", "tenants kept per API before the least recently used go, 1-100,000 (default 200)"),
    ("--seed-count", "seed_count", "Faker-made entities of each kind per tenant, 0-1,000 (default 20)"),
    ("--freeze-at", "freeze_at", "start with the clock frozen at this ISO 8601 instant"),
    (
        "--insigner-async-seconds",
        "insigner_async_seconds",
        "keep new bulk sends 'processing' this many mock seconds, 0-31,536,000 (default 0: synchronous, as the vendor)",
    ),
    ("--threads", "threads", "threads running views, so slow requests do not stall others, 1-1,024 (default 32)"),
    ("--snapshot", "snapshot", "start from this snapshot file (GET /__mock/snapshot); a reset returns to it"),
    (
        "--allowed-hosts",
        "allowed_hosts",
        "Host names (comma-separated) a server bound to a loopback address also answers; others get 403",
    ),
    ("--webhooks", "webhooks", "on (default): deliver webhooks; off: log each attempt as suppressed, send nothing"),
    (
        "--webhook-timeout",
        "webhook_timeout",
        "seconds an attempt may take, connection to last byte, 0.1-60 (default 10)",
    ),
    ("--deliveries-size", "deliveries_size", "ended delivery attempts the log keeps, 1-100,000 (default 1000)"),
    (
        "--collect-token-header",
        "collect_token_header",
        "the header that carries a Collect webhook's secretToken (default X-Collect-Secret-Token)",
    ),
    (
        "--webhook-allow",
        "webhook_allow",
        "where webhooks may go besides loopback: host names, *.suffix, addresses, CIDR ranges or * (comma-separated)",
    ),
)


# Flags that take no value: on when given.
FLAGS = (
    ("--strict-auth", "strict_auth", "accept fixture keys only (MOCKSERVER_STRICT_AUTH=1)"),
    (
        "--webhook-strict-urls",
        "webhook_strict_urls",
        "refuse at registration the webhook URLs the vendors refuse: plain HTTP; on inSigner, private addresses",
    ),
)


def serve_options() -> list[tuple[str, str, str]]:
    """Every option of `mockserver serve`: flag, setting (MOCKSERVER_<SETTING>), help. The docs' reference reads it."""
    return [*OPTIONS, *FLAGS]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        self.exit(2, f"mockserver: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mockserver", description="A local mock of Collect's and inSigner's APIs.")
    parser.add_argument("--version", action="version", version=f"mockserver {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    serve = commands.add_parser(
        "serve",
        help="serve both APIs and the /__mock control plane",
        description="Serve Collect's POST /v1/requests, inSigner's /api/v1/bulk-sends and /__mock. "
        "Every option can also be set as MOCKSERVER_<OPTION> (e.g. MOCKSERVER_PORT).",
    )
    for flag, dest, text in OPTIONS:
        serve.add_argument(flag, dest=dest, default=None, help=text)
    for flag, dest, text in FLAGS:
        serve.add_argument(flag, dest=dest, action="store_const", const=True, default=None, help=text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


def fail(message: str) -> int:
    print(f"mockserver: error: {message}", file=sys.stderr)
    return 1


def serve(args: argparse.Namespace) -> int:
    """Start the server; exit 0 on SIGTERM/SIGINT, non-zero with one line on a bad start."""
    explicit = {dest: getattr(args, dest) for _, dest, _ in OPTIONS if getattr(args, dest) is not None}
    for _, dest, _ in FLAGS:
        if getattr(args, dest):
            explicit[dest] = True
    try:
        settings = Settings.load(os.environ, **explicit)
    except ConfigError as exc:
        return fail(str(exc))
    logs.configure(settings.log_level, sys.stderr)
    from .serving.server import ServeError, check_bindable
    from .serving.server import serve as run

    try:
        port = check_bindable(settings.host, settings.port)
    except ServeError as exc:
        return fail(str(exc))
    from .app import create_app
    from .pipeline import never_waits
    from .seeding import FixtureError
    from .store import StoreError

    try:
        app = create_app(settings.with_values(port=port))
    except (FixtureError, StoreError, ConfigError, ValueError) as exc:  # StartupSnapshotError too
        return fail(str(exc))
    state = app.extensions["mockserver"]

    def ready(url: str) -> None:
        print(
            f"mockserver {__version__} serving {url} (store {settings.store}, seed {settings.seed}; "
            f"{state.egress.describe()})",
            flush=True,
        )

    try:
        run(app, settings, port, ready, state.stop, warm_up=state.build_seed_data, never_waits=never_waits(state))
    except ServeError as exc:
        return fail(str(exc))
    finally:
        state.close()
    # Everything is on disk and every log line written. Finalizing the interpreter now lets
    # granian's runtime threads drop Python objects while it shuts down, which aborts the process
    # now and then (a Rust panic, exit -6 or 134): measured with granian 2.8.9, 1 of 40 stops of a
    # server started in a cleared environment as in the Docker image, 4 of 15 in the image, and
    # one SIGTERM in the suite. Leaving without finalizing gives the exit status 0 users rely on.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
