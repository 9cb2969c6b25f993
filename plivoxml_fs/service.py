"""The daemon assembled from Settings: outbound server, inbound client, fetcher, outbox, driver.

`Daemon` owns the start and drain order and nothing else; each part owns its own behaviour.
Start: outbound server first (so its bound address is known), then the inbound connection.
Stop: stop accepting, let calls finish up to the drain limit, flush callbacks, close inbound.
Recovery (effects/recovery.py) posts the hangup callbacks of calls an earlier daemon left in
the outbox's call journal; it asks over the inbound connection and reads its events.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

import attrs

from plivoxml_fs.api.conference import ApiContext
from plivoxml_fs.api.http import (
    CONNECTED,
    DISCONNECTED,
    NOT_RESPONDING,
    FreeSwitchProbe,
    OperatorServer,
)
from plivoxml_fs.api.routes import route_map
from plivoxml_fs.api.server import ControlApp, ControlServer
from plivoxml_fs.call.driver import CallDriver, new_id
from plivoxml_fs.config import Settings, allowed_peers, api_accounts
from plivoxml_fs.documents import parse_document
from plivoxml_fs.effects import aiagent, profile_watch
from plivoxml_fs.effects.fetch import DocumentFetcher, yield_to_others
from plivoxml_fs.effects.heap import HeapTrimmer
from plivoxml_fs.effects.history import HistoryStore
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.recovery import Recovery
from plivoxml_fs.effects.rooms import GeventEdge
from plivoxml_fs.effects.transcriber import Transcriber
from plivoxml_fs.errors import ConnectionLost, ListenError
from plivoxml_fs.esl.inbound import InboundClient
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.rooms import recordings
from plivoxml_fs.rooms.model import RoomContext
from plivoxml_fs.rooms.registry import RoomEngine

log = logging.getLogger("plivoxml_fs.service")

#: Event subscriptions of the daemon's one inbound connection (CUSTOM must come last): only
#: what it reads of every channel on the box. Orphans' CHANNEL_HANGUP_COMPLETE is asked for
#: only while there are some (effects/recovery.py); digits for AI participants come from the
#: presser's own socket (rooms/registry.py `on_digit`).
INBOUND_EVENTS = ("BACKGROUND_JOB", "conference::maintenance")


def history_path(settings: Settings) -> str:
    """`history_path`, else `<state_dir>/history.sqlite3`."""
    return settings.history_path or str(Path(settings.state_dir) / "history.sqlite3")


def _listen(start, address: tuple[str, int], setting: str) -> None:
    """Run a listener's `start`; OSError becomes ListenError naming `address` and `setting`."""
    try:
        start()
    except OSError as exc:
        raise ListenError(address, setting, exc) from None


class Daemon:
    """One running plivoxml-fs: everything `plivoxml-fs serve` starts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fetcher = DocumentFetcher.from_settings(settings)
        self.outbox = Outbox.from_settings(settings)
        self.recovery = Recovery(self.outbox, command_timeout_s=settings.command_timeout_s)
        self.inbound: InboundClient | None = None
        self.profile_check = None  # the start check's greenlet (effects/profile_watch.py)
        # a large document is parsed in slices, other calls running in between (issue 9, item 6)
        parse = functools.partial(parse_document, pause=yield_to_others)
        # the rooms' commands go over the inbound connection once it is opened
        # recordings' transcriptions: stored jobs, run in worker processes, posted by the outbox
        self.transcriber = Transcriber.from_settings(settings, self.outbox)
        self.room_edge = GeventEdge(lambda: self.inbound, self.outbox,
                                    command_timeout_s=settings.command_timeout_s,
                                    transcriber=self.transcriber)
        self.rooms = RoomEngine(RoomContext(settings, new_id), self.room_edge)
        self.driver = CallDriver(settings, self.fetcher, self.outbox, inbound=None, parse=parse,
                                 rooms=self.rooms)
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
        self.history = HistoryStore(history_path(settings), settings.history_retention_s)
        self.heap = HeapTrimmer.of_this_process(settings.heap_trim_interval_s)
        self.api_context = ApiContext(self.rooms, self.history, time.time, settings, new_id,
                                      self.freeswitch_connected, self.driver.inline,
                                      self._originate, self.outbox.emit,
                                      confirms=self.driver.confirms, add_ai=self._add_ai,
                                      fetcher=self.fetcher)
        self.rooms.on_ended = self.api_context.keep
        self.rooms.on_digit = aiagent.relay_digit
        self.api: ControlServer | None = None
        if settings.api_port:
            app = ControlApp(route_map(), api_accounts(settings.api_auth), self.api_context)
            self.api = ControlServer((settings.api_host, settings.api_port), app)
        self.operator: OperatorServer | None = None
        self.probe: FreeSwitchProbe | None = None
        if settings.metrics_port:
            where = (settings.metrics_host, settings.metrics_port)
            self.operator = OperatorServer(where, self.freeswitch_state,
                                           recordings.recordings_dir(settings),
                                           lambda: self.outbox.durable)
            self.probe = FreeSwitchProbe(self._probe_api,
                                         interval_s=settings.health_probe_interval_s,
                                         timeout_s=settings.health_probe_timeout_s)

    def freeswitch_connected(self) -> bool:
        """Whether the inbound event-socket connection is up (what /health reports)."""
        return self.inbound is not None and self.inbound.connected

    def freeswitch_state(self) -> str:
        """What /health reports: connected, disconnected, or not responding (the probe's last
        `api status` went unanswered)."""
        if not self.freeswitch_connected():
            return DISCONNECTED
        if self.probe is not None and not self.probe.responsive:
            return NOT_RESPONDING
        return CONNECTED

    def _originate(self, command: str, timeout: float) -> str:
        """The control API's dial (api/mpc_add.py): FreeSWITCH's originate reply."""
        if self.inbound is None:
            return "-ERR the inbound connection is not opened"
        return self.inbound.bgapi(command, timeout=timeout).body_text

    def _add_ai(self, mpc, document, account: str) -> str | None:
        """The control API's AI participant (api/mpc_add.py): made over the inbound connection."""
        if self.inbound is None:
            return None
        return aiagent.add_by_api(mpc, document, inbound=self.inbound, settings=self.settings,
                                  emit=self.outbox.emit, rooms=self.rooms, account=account)

    def _probe_api(self, command: str, timeout: float) -> str:
        if self.inbound is None:
            raise ConnectionLost("the inbound connection is not started")
        return self.inbound.api(command, timeout=timeout, check=False)

    @property
    def address(self) -> tuple[str, int]:
        """Where the outbound server listens (the port actually bound)."""
        return self.server.address

    def start_server(self) -> None:
        """Start the outbox and the listeners; a listener that cannot bind raises ListenError
        naming its address and the settings that hold it."""
        s = self.settings
        self.heap.start()
        self.outbox.start()
        self.transcriber.start()
        _listen(self.server.start, (s.listen_host, s.listen_port), "listen_host:listen_port")
        log.info("listening for calls on %s:%d", *self.address)
        if self.operator is not None:
            _listen(self.operator.start, (s.metrics_host, s.metrics_port),
                    "metrics_host:metrics_port")
        if self.api is not None:
            _listen(self.api.start, (s.api_host, s.api_port), "api_host:api_port")

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
            on_event=self._on_inbound_event,
            on_down=self.rooms.lost_connection,
            reconnect_min_s=s.reconnect_min_s,
            reconnect_max_s=s.reconnect_max_s,
            command_timeout_s=s.command_timeout_s,
            connect_timeout_s=s.connect_timeout_s,
        )
        self.driver.inbound = self.inbound
        self.inbound.start()
        self.recovery.start(self.inbound)
        self.profile_check = profile_watch.start(self.inbound, [s.conference_profile])
        if self.probe is not None:
            self.probe.start()

    def _on_inbound_event(self, event) -> None:
        """The inbound connection's events: the rooms', then the orphaned calls' hangups."""
        self.rooms.on_event(event)
        self.recovery.on_event(event)

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
        if self.api is not None:  # before the outbox: asynchronous requests post through it
            self.api.stop()
        self.transcriber.stop()  # a job running now stays stored: the next start runs it
        self.outbox.stop(timeout=limit)
        self.recovery.stop()
        if self.profile_check is not None:
            self.profile_check.kill()
        self.room_edge.stop()
        if self.probe is not None:
            self.probe.stop()
        if self.inbound is not None:
            self.inbound.stop()
        if self.operator is not None:
            self.operator.stop()
        self.history.close()
        self.heap.stop()
        log.info("stopped")

