"""The daemon assembled from Settings: outbound server, inbound client, fetcher, outbox, driver.

`Daemon` owns the start and drain order and nothing else; each part owns its own behaviour.
Start: outbound server first (so its bound address is known), then the inbound connection.
Stop: stop accepting, let calls finish up to the drain limit, flush callbacks, close inbound.
"""

from __future__ import annotations

import logging

import attrs

from plivoxml_fs.api.http import OperatorServer
from plivoxml_fs.call.driver import CallDriver
from plivoxml_fs.config import Settings, allowed_peers
from plivoxml_fs.effects.fetch import DocumentFetcher
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.esl.transport import InboundClient, OutboundServer
from plivoxml_fs.rooms import recordings

log = logging.getLogger("plivoxml_fs.service")

#: Event subscriptions of the daemon's one inbound connection (CUSTOM must come last).
INBOUND_EVENTS = ("BACKGROUND_JOB", "CHANNEL_HANGUP_COMPLETE", "conference::maintenance")


class Daemon:
    """One running plivoxml-fs: everything `plivoxml-fs serve` starts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fetcher = DocumentFetcher.from_settings(settings)
        self.outbox = Outbox.from_settings(settings)
        self.inbound: InboundClient | None = None
        self.driver = CallDriver(settings, self.fetcher, self.outbox, inbound=None)
        self.server = OutboundServer(
            (settings.listen_host, settings.listen_port),
            self.driver.handle,
            max_calls=settings.max_calls,
            command_timeout_s=settings.command_timeout_s,
            connect_timeout_s=settings.connect_timeout_s,
            max_connect_reply_bytes=settings.max_connect_reply_bytes,
            allowed_peers=allowed_peers(settings),
            confirm=self.driver.confirm,
        )
        self.operator: OperatorServer | None = None
        if settings.metrics_port:
            where = (settings.metrics_host, settings.metrics_port)
            self.operator = OperatorServer(where, self.freeswitch_connected,
                                           recordings.recordings_dir(settings))

    def freeswitch_connected(self) -> bool:
        """Whether the inbound event-socket connection is up (what /health reports)."""
        return self.inbound is not None and self.inbound.connected

    @property
    def address(self) -> tuple[str, int]:
        """Where the outbound server listens (the port actually bound)."""
        return self.server.address

    def start_server(self) -> None:
        self.outbox.start()
        self.server.start()
        log.info("listening for calls on %s:%d", *self.address)
        if self.operator is not None:
            self.operator.start()

    def start_inbound(self, host: str | None = None, port: int | None = None) -> None:
        """Open the inbound connection (it reconnects by itself while FreeSWITCH is away)."""
        if host is not None or port is not None:
            self.settings = attrs.evolve(
                self.settings,
                freeswitch_host=host or self.settings.freeswitch_host,
                freeswitch_port=port or self.settings.freeswitch_port,
            )
            self.server.allowed_peers = allowed_peers(self.settings)
        s = self.settings
        self.inbound = InboundClient(
            s.freeswitch_host,
            s.freeswitch_port,
            s.freeswitch_password,
            events=INBOUND_EVENTS,
            on_event=self.driver.conferences.on_event,
            on_down=self.driver.conferences.lost_connection,
            reconnect_min_s=s.reconnect_min_s,
            reconnect_max_s=s.reconnect_max_s,
            command_timeout_s=s.command_timeout_s,
            connect_timeout_s=s.connect_timeout_s,
        )
        self.driver.inbound = self.inbound
        self.inbound.start()

    def start(self) -> None:
        self.start_server()
        self.start_inbound()

    def stop(self, drain_timeout_s: float | None = None) -> None:
        """Stop accepting calls, wait for the active ones up to the drain limit, then close."""
        limit = self.settings.drain_timeout_s if drain_timeout_s is None else drain_timeout_s
        active = self.server.active
        if active:
            log.info("draining: %d calls active, waiting up to %.1f s", active, limit)
        self.server.stop(timeout=limit)
        self.outbox.stop(timeout=limit)
        if self.inbound is not None:
            self.inbound.stop()
        if self.operator is not None:
            self.operator.stop()
        log.info("stopped")
