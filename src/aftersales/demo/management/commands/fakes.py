"""`manage.py fakes [--host 127.0.0.1] [--port-base 8701] [--tick SECONDS] [--sync]`: serve the demo's
local eBay, Shopify, Amazon and 17TRACK (aftersales.demo.fakes) until interrupted."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.demo.fakes import DEFAULT_PORT_BASE, PLATFORMS, TICK_SECONDS, DemoFakes
from aftersales.demo.messaging import DemoMessaging


class Command(BaseCommand):
    help = "Serve the demo's fake marketplaces (eBay, Shopify, Amazon, 17TRACK) on loopback ports until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="only 127.0.0.1: the fakes never leave loopback")
        parser.add_argument(
            "--port-base",
            type=int,
            default=DEFAULT_PORT_BASE,
            help=f"eBay on this port, then {', '.join(PLATFORMS[1:])} on the next ones (default {DEFAULT_PORT_BASE})",
        )
        parser.add_argument(
            "--tick",
            type=float,
            default=TICK_SECONDS,
            help=f"seconds between new buyer messages and returns (default {TICK_SECONDS}; 0: none)",
        )
        parser.add_argument(
            "--app-url",
            default="",
            help="the running app (http://127.0.0.1:PORT): the WhatsApp and Messenger fakes push their webhooks there",
        )
        parser.add_argument(
            "--sync",
            action="store_true",
            help="once serving, queue a first sync of the demo stores and the tracking account (done by the worker)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["host"] != "127.0.0.1":
            raise CommandError("the fakes listen on 127.0.0.1 only")
        port_base = options["port_base"]
        if not 1024 <= port_base <= 65535 - len(PLATFORMS):
            raise CommandError(f"--port-base must be between 1024 and {65535 - len(PLATFORMS)}")
        fakes = DemoFakes()
        fakes.seed()
        try:
            fakes.start(port_base)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on 127.0.0.1:{port_base}..{port_base + len(PLATFORMS) - 1}: {exc}"
            ) from exc
        # The demo mailbox's mail server and the WhatsApp / Messenger fakes (demo/messaging.py).
        messaging = DemoMessaging(app_url=options["app_url"], log=self._log)
        try:
            messaging.start(port_base)
        except OSError as exc:
            fakes.stop()
            raise CommandError(f"cannot start the demo mail / chat fakes above {port_base}: {exc}") from exc
        stop = threading.Event()

        def interrupted(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, interrupted)
        signal.signal(signal.SIGINT, interrupted)
        try:
            for key, url in {**fakes.urls, **messaging.urls}.items():
                self.stdout.write(f"  fake {key:<10} {url}")
            self.stdout.flush()
            self._connect_stores(fakes)
            if options["sync"]:
                self._queue_sync()
            threading.Thread(target=self._seed, args=(messaging,), daemon=True).start()
            tick = options["tick"]
            while not stop.wait(tick if tick > 0 else 3600):
                if tick > 0:
                    for line in fakes.tick() + messaging.tick():
                        self.stdout.write(f"  {line}")
                    self.stdout.flush()
        finally:
            messaging.stop()
            fakes.stop()
            self.stdout.write("fakes stopped")

    def _seed(self, messaging: DemoMessaging) -> None:
        """Buyers' first e-mails and chat messages (the pushes wait for the web server to answer)."""
        for line in messaging.seed():
            self._log(line)

    def _log(self, line: str) -> None:
        self.stdout.write(f"  {line}")
        self.stdout.flush()

    def _connect_stores(self, fakes: DemoFakes) -> None:
        """Connect the demo stores through each platform's consent flow against these fakes, as an
        admin's Connect does (their tokens come from the fakes; demo/stores.py)."""
        from aftersales.accounts.models import Organization
        from aftersales.demo import data
        from aftersales.demo.stores import demo_stores_authorize

        organization = Organization.objects.filter(slug=data.ORG_SLUG).first()
        if organization is None:
            return
        for line in demo_stores_authorize(organization=organization, fakes=fakes):
            self._log(line)

    def _queue_sync(self) -> None:
        """The periodic sync runs every five minutes: pull the demo stores now, so the demo is
        populated within a minute of starting."""
        from aftersales.demo.stores import demo_sync_queue

        queued = demo_sync_queue()
        self.stdout.write(f"  queued a first sync: {queued} stream(s) of the demo stores")
