"""EmbeddedFreeSwitch: a process-local FreeSWITCH speaking the real event-socket protocol.

It listens for inbound ESL clients (gevent StreamServer) and hands each originated call's B leg
to `socket_address` as `socket ... async full` does. See docs/internals.md for the contract and
the sibling modules for the parts: bus (events and delivery), channels, apps, api, esl/inbound/
outbound (the two kinds of socket), loopback (originate), media (durations and time scale).
"""

from __future__ import annotations

import itertools
import logging
import socket
import tempfile
import uuid as uuidlib
from collections.abc import Mapping
from types import MappingProxyType

import gevent
import gevent.event
from gevent.server import StreamServer

from plivoxml_fs.errors import CommandFailed
from plivoxml_fs.simulator import (
    conference_api,  # noqa: F401  (registers `conference`)
    leg_record,  # noqa: F401  (registers `uuid_record`)
)
from plivoxml_fs.simulator.api import run_api
from plivoxml_fs.simulator.apps import Execute, execute
from plivoxml_fs.simulator.bus import EventBus, EventFactory
from plivoxml_fs.simulator.channels import Channel
from plivoxml_fs.simulator.conference import Conferences
from plivoxml_fs.simulator.inbound import InboundListener
from plivoxml_fs.simulator.loopback import OriginateError, make_legs, parse_all
from plivoxml_fs.simulator.media import MediaClock, MediaLibrary
from plivoxml_fs.simulator.outbound import run_socket_app

log = logging.getLogger("plivoxml_fs.simulator")

VERSION = "1.10.12-release git a88d069 2024-08-02 21:02:27Z"
#: Wall seconds stop() waits for channels to finish their teardown.
STOP_WAIT_S = 2.0
#: Seconds `api originate` waits for the answer unless originate_timeout says otherwise.
ORIGINATE_TIMEOUT_S = 60
#: Ended channels kept for their history (the oldest are forgotten first), by default: enough
#: for a test or a replay to read every channel it made.
ENDED_KEPT = 10_000
#: Ended channels `plivoxml-fs simulate` keeps: it runs for as long as its user wants, and each
#: ended channel's history and variables cost about 13 KiB.
SIMULATE_ENDED_KEPT = 100
#: Wall seconds a closing inbound connection may take to write what it still has queued.
FLUSH_WAIT_S = 5.0


class EmbeddedFreeSwitch:
    """A FreeSWITCH 1.10.12 stand-in: inbound ESL, outbound ESL, loopback calls, media time."""

    version = VERSION

    def __init__(
        self,
        *,
        inbound_address: tuple[str, int] = ("127.0.0.1", 0),
        password: str = "ClueCon",
        socket_address: tuple[str, int] = ("127.0.0.1", 8084),
        time_scale: float = 1.0,
        media_dir: str | None = None,
        ended_kept: int = ENDED_KEPT,
    ) -> None:
        if isinstance(ended_kept, bool) or not isinstance(ended_kept, int) or ended_kept < 0:
            raise ValueError(f"simulator ended_kept: must be an integer >= 0 (got {ended_kept!r})")
        self.ended_kept = ended_kept
        self.clock = MediaClock(time_scale)
        self.password = password
        self.socket_address = tuple(socket_address)
        self.hostname = socket.gethostname()
        self.factory = EventFactory(
            core_uuid=str(uuidlib.uuid4()), hostname=self.hostname, now_us=self.clock.now_us
        )
        self.bus = EventBus()
        self.conferences = Conferences(self)
        self._cache = tempfile.TemporaryDirectory(prefix="plivoxml-fs-sim-")
        self.media = MediaLibrary(media_dir, self._cache.name)
        self._channels: dict[str, Channel] = {}
        self._ended: dict[str, Channel] = {}
        self._session_ids = itertools.count(1)
        self.sessions_since_startup = 0
        self.peak_sessions = 0
        self.started_us = self.clock.now_us()
        self._listeners: set = set()
        self._server = StreamServer(tuple(inbound_address), self._accept)
        self._stopped = gevent.event.Event()

    # -- life -------------------------------------------------------------------------------
    def start(self) -> None:
        self._server.start()
        log.info("embedded FreeSWITCH: inbound ESL on %s:%s", *self.inbound_address[:2])

    def serve_forever(self) -> None:
        """Start (if needed) and serve until stop() is called or the greenlet is killed."""
        if not self._server.started:
            self.start()
        try:
            self._stopped.wait()
        finally:
            self.stop()

    def stop(self) -> None:
        """Hang up every channel (SYSTEM_SHUTDOWN), close every socket, stop listening.

        Safe to call more than once.
        """
        if self._stopped.is_set():
            return
        channels = list(self._channels.values())
        for channel in channels:
            channel.hangup("SYSTEM_SHUTDOWN")
        gevent.wait([c.destroyed for c in channels], timeout=STOP_WAIT_S)
        unfinished = [c for c in channels if not c.destroyed.is_set()]
        if unfinished:
            log.warning("embedded FreeSWITCH: %d channels did not finish", len(unfinished))
        for listener in list(self._listeners):
            listener.close()
        if self._server.started:
            self._server.stop(timeout=1)
        self._stopped.set()
        self._cache.cleanup()

    @property
    def inbound_address(self) -> tuple[str, int]:
        return self._server.address[:2]

    @property
    def inbound_subscriptions(self) -> list[frozenset[str]]:
        """The event names each inbound connection is subscribed to now."""
        return [frozenset(listener.sub.names) for listener in list(self._listeners)
                if isinstance(listener, InboundListener) and not listener.closed]

    def _accept(self, sock, address) -> None:
        listener = InboundListener(self, sock)
        self.track(listener)
        listener.serve()
        listener.wait_flushed(FLUSH_WAIT_S)  # StreamServer closes the socket when we return

    def track(self, listener) -> None:
        self._listeners.add(listener)

    def untrack(self, listener) -> None:
        self._listeners.discard(listener)

    # -- calls ------------------------------------------------------------------------------
    @property
    def channels(self) -> Mapping[str, Channel]:
        """Channels up now, by uuid (read-only)."""
        return MappingProxyType(self._channels)

    @property
    def ended_channels(self) -> Mapping[str, Channel]:
        """Channels that finished (their history stays readable), by uuid (read-only): the
        last `ended_kept` of them, oldest first."""
        return MappingProxyType(self._ended)

    def channel(self, uuid: str) -> Channel | None:
        """A channel up or ended."""
        return self._channels.get(uuid) or self._ended.get(uuid)

    def api(self, text: str, owner=None) -> str:
        """Run an API command as `api <text>` would; returns the reply body."""
        return run_api(self, text, owner)

    def originate(self, dial_string: str, app: str = "&park") -> str:
        """Place a call as `api originate <dial_string> <app>` does; returns the A-leg uuid.

        Unlike the API command it returns once the call is placed, without waiting for the
        B leg to answer, so tests can drive calls that are never answered. CommandFailed when
        the dial string is refused.
        """
        reply = self.originate_call(dial_string, app, wait=False)
        if not reply.startswith("+OK "):
            raise CommandFailed(f"originate {dial_string} {app}", reply.strip())
        return reply[4:].strip()

    def originate_call(self, dial: str, target: str, *, wait: bool) -> str:
        """The originate API: make the loopback legs and start them; the reply text.

        With `wait` (the API command), the reply comes when the B leg answers or pre-answers,
        `-ERR <cause>` when it hangs up first (NORMAL_CLEARING when the daemon cannot be
        reached), `-ERR NO_ANSWER` after originate_timeout seconds (default 60, media time),
        as FreeSWITCH 1.10.12 with mod_loopback answers.
        """
        try:
            legs = parse_all(dial, target)
        except OriginateError as exc:
            return str(exc)
        if len(legs) > 1:
            return self._originate_parallel(legs, wait=wait)
        (parsed,) = legs
        a_leg, b_leg = make_legs(self, parsed, self._session_ids, taken=self.channel)
        for channel in (a_leg, b_leg):
            self._channels[channel.uuid] = channel
        self.sessions_since_startup += 2
        self.peak_sessions = max(self.peak_sessions, len(self._channels))
        if parsed.app is None:  # an extension: the A leg goes there once the B leg answered
            gevent.spawn(a_leg.run_session, lambda leg: self._run_answered(leg, b_leg))
        else:
            gevent.spawn(a_leg.run_session, lambda leg: self._run_a_leg(leg, parsed.app, parsed.app_arg))
        if parsed.dialplan == "inline":
            gevent.spawn(b_leg.run_session, lambda leg: self._run_inline(leg, parsed.inline_apps))
        else:
            gevent.spawn(b_leg.run_session, run_socket_app)
        if wait:
            return self._await_answer(a_leg, b_leg, dict(parsed.variables))
        return f"+OK {a_leg.uuid}\n"

    def _await_answer(self, a_leg: Channel, b_leg: Channel, variables: dict[str, str]) -> str:
        try:
            timeout_s = int(variables.get("originate_timeout", ORIGINATE_TIMEOUT_S))
        except ValueError:
            timeout_s = ORIGINATE_TIMEOUT_S
        gevent.wait([b_leg.media_up, b_leg.hungup], timeout=self.clock.wall_s(timeout_s * 1000),
                    count=1)
        if b_leg.media_up.is_set() and b_leg.is_up:
            return f"+OK {a_leg.uuid}\n"
        if b_leg.is_up:
            b_leg.hangup("NO_ANSWER")
            return "-ERR NO_ANSWER\n"
        return f"-ERR {b_leg.hangup_cause}\n"

    @staticmethod
    def _run_answered(channel: Channel, b_leg: Channel) -> None:
        """FreeSWITCH's originate runs the A leg's destination (here the dialplan's socket)
        only once the B leg answered (or pre-answered); a B leg that hangs up first ends it."""
        gevent.wait([b_leg.media_up, b_leg.hungup], count=1)
        if b_leg.media_up.is_set() and b_leg.is_up and channel.is_up:
            run_socket_app(channel)
            return
        if channel.is_up:
            channel.hangup(b_leg.hangup_cause or "NORMAL_CLEARING")
        channel.finish()

    @staticmethod
    def _run_a_leg(channel: Channel, app: str, arg: str) -> None:
        execute(channel, Execute(app, arg))
        if channel.is_up:
            channel.hangup("NORMAL_CLEARING")
        channel.finish()

    @staticmethod
    def _run_inline(channel: Channel, apps: tuple[tuple[str, str], ...]) -> None:
        """The inline dialplan: each application in turn, then the hangup once they end."""
        for app, arg in apps:
            if not channel.is_up:
                break
            execute(channel, Execute(app, arg))
        if channel.is_up:
            channel.hangup("NORMAL_CLEARING")
        channel.finish()

    def _originate_parallel(self, legs, *, wait: bool) -> str:
        """`,`: every leg rings at once; the first whose B leg answers (or pre-answers) wins
        and runs the target, the others are hung up with LOSE_RACE (their B legs too), as
        FreeSWITCH's originate does; the reply names the winner's A leg."""
        pairs = [make_legs(self, parsed, self._session_ids, taken=self.channel)
                 for parsed in legs]
        won: gevent.event.AsyncResult = gevent.event.AsyncResult()
        for (a_leg, b_leg), parsed in zip(pairs, legs, strict=True):
            for channel in (a_leg, b_leg):
                self._channels[channel.uuid] = channel
            self.sessions_since_startup += 2
            gevent.spawn(a_leg.run_session, lambda leg, b=b_leg, p=parsed:
                         self._run_racing(leg, b, p, pairs, won))
            gevent.spawn(b_leg.run_session, run_socket_app)
        self.peak_sessions = max(self.peak_sessions, len(self._channels))
        if not wait:
            return f"+OK {pairs[0][0].uuid}\n"
        try:
            timeout_s = int(dict(legs[0].variables).get("originate_timeout",
                                                         ORIGINATE_TIMEOUT_S))
        except ValueError:
            timeout_s = ORIGINATE_TIMEOUT_S
        winner = won.wait(self.clock.wall_s(timeout_s * 1000))
        if winner is not None:
            return f"+OK {winner.uuid}\n"
        causes = set()
        for _, b_leg in pairs:
            if b_leg.is_up:
                b_leg.hangup("NO_ANSWER")
            causes.add(b_leg.hangup_cause or "NO_ANSWER")
        if not won.ready():
            won.set(None)
        return f"-ERR {causes.pop() if len(causes) == 1 else 'NO_ANSWER'}\n"

    def _run_racing(self, channel: Channel, b_leg: Channel, parsed, pairs, won) -> None:
        gevent.wait([b_leg.media_up, b_leg.hungup], count=1)
        if b_leg.media_up.is_set() and b_leg.is_up and channel.is_up and not won.ready():
            won.set(channel)
            for a_leg, _ in pairs:
                if a_leg is not channel:
                    a_leg.hangup("LOSE_RACE")
            if parsed.app is None:
                run_socket_app(channel)
                return
            execute(channel, Execute(parsed.app, parsed.app_arg))
            if channel.is_up:
                channel.hangup("NORMAL_CLEARING")
        elif channel.is_up:
            channel.hangup("LOSE_RACE" if won.ready() else
                           (b_leg.hangup_cause or "NORMAL_CLEARING"))
        if not won.ready() and all(not b.is_up for _, b in pairs):
            won.set(None)
        channel.finish()

    def channel_gone(self, channel: Channel) -> None:
        self._channels.pop(channel.uuid, None)
        self._ended[channel.uuid] = channel
        while len(self._ended) > self.ended_kept:
            self._ended.pop(next(iter(self._ended)))

    def talk(self, uuid: str, ms: int) -> bool:
        """The conference member on channel `uuid` sends `ms` of audio (start-talking,
        floor-change when it takes the floor, stop-talking); False when it is in no room."""
        return self.conferences.talk(uuid, ms)

    def wait_hangup(self, uuid: str, timeout: float) -> bool:
        """True once the channel `uuid` has finished hanging up (within `timeout` seconds)."""
        channel = self.channel(uuid)
        if channel is None:
            return False
        return channel.destroyed.wait(timeout)
