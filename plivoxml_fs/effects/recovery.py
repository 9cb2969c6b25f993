"""Hangup callbacks of the calls an earlier daemon took and never finished (kill -9, crash).

The outbox's call journal (store.py, table `calls`) holds a row per call in progress that has
a hangup URL; rows still there when the file is opened belong to a process that stopped before
those calls ended (`Outbox.take_orphans`). For each such orphan, `Recovery`:

1. watches the inbound connection for the channel's CHANNEL_HANGUP_COMPLETE (subscribed,
   `InboundClient.want`, only while orphans are watched: FreeSWITCH sends that ~4.7 KiB
   event for every channel on the box), then asks FreeSWITCH `api uuid_exists <uuid>`;
2. `false` (the usual case: FreeSWITCH's socket application ends when the daemon's socket
   closes, and the call with it): posts the hangup callback now with what the journal knows:
   the call parameters, StartTime, AnswerTime, `HangupCause=NORMAL_UNSPECIFIED` (nobody was
   told why it ended) and `HangupSource=Daemon Restart`; EndTime is the last moment the call
   was known to be up (the earlier daemon's last heartbeat, at most outbox.HEARTBEAT_S before
   it stopped, or the call's answer if later), and Duration/BillDuration run to it;
3. `true` (the channel outlived its daemon: the dialplan went on after `socket`): the call is
   left alone, since what the dialplan does after `socket` is its choice and no daemon controls
   the call any more; its callback is posted when its CHANNEL_HANGUP_COMPLETE arrives, with
   FreeSWITCH's cause and times and `HangupSource=Daemon Restart`. It is asked again every
   RECHECK_S in case that event was missed (during a reconnect);
4. no answer (FreeSWITCH unreachable or frozen): asked again once the inbound connection is up.

Each callback goes through the outbox like the driver's (kind `hangup`, built by the same
`call.params.hangup_params`), and the outbox deletes the journal row in the transaction that
stores it: a call gets its hangup callback once, from this process or from the one before.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
import gevent.event

from plivoxml_fs.call import causes
from plivoxml_fs.call import params as call_params
from plivoxml_fs.effects.outbox import HANGUP_KIND, Orphan
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import PlivoXMLError, UnsafeValue
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.fs import commands

log = logging.getLogger("plivoxml_fs.recovery")

#: Seconds between questions about orphans whose channel still exists.
RECHECK_S = 30.0
#: The event that ends a watched orphan.
HANGUP_COMPLETE = "CHANNEL_HANGUP_COMPLETE"
#: HangupCause of an orphan whose channel ended while no daemon watched it.
RESTART_CAUSE = "NORMAL_UNSPECIFIED"
_MICROS = 1_000_000


class Recovery:
    """Posts the hangup callbacks the journal's orphans are owed; one per daemon."""

    def __init__(self, outbox: Any, *, command_timeout_s: float) -> None:
        self._outbox = outbox
        self._timeout_s = command_timeout_s
        self._watched: dict[str, Orphan] = {}
        self._alive_seen: set[str] = set()
        self._wake = gevent.event.Event()
        self._inbound: Any = None
        self._listening = False  # HANGUP_COMPLETE asked for (while orphans are watched)
        self._runner: gevent.Greenlet | None = None
        outbox.on_orphans = self._wake.set

    @property
    def watched(self) -> list[str]:
        """The uuids of orphans still waiting for their hangup callback."""
        return list(self._watched)

    def start(self, inbound: Any) -> None:
        """Begin asking about orphans over `inbound` (an InboundClient)."""
        self._inbound = inbound
        if self._runner is None:
            self._runner = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.kill()
            self._runner = None

    def on_event(self, event: Event) -> None:
        """An inbound event: an orphan's CHANNEL_HANGUP_COMPLETE posts its callback."""
        if event.name != HANGUP_COMPLETE:
            return
        orphan = self._watched.pop(event.unique_id, None)
        if orphan is not None:
            self._post(orphan, event, "its channel ended after the restart")
            if not self._watched:
                self._wake.set()  # the loop stops the subscription

    # -- the loop ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._take()
            self._listen(bool(self._watched))
            if self._watched and not self._ask_all():
                self._inbound.wait_connected(RECHECK_S)
                continue
            self._listen(bool(self._watched))  # the gone ones are posted: maybe none is left
            self._wake.wait(RECHECK_S if self._watched else None)
            self._wake.clear()

    def _listen(self, on: bool) -> None:
        """Subscribe HANGUP_COMPLETE before asking about orphans (so none ends unseen
        between the question and its answer); stop once none is left."""
        if on != self._listening:
            self._listening = on
            self._inbound.want(HANGUP_COMPLETE, on)

    def _take(self) -> None:
        orphans = self._outbox.take_orphans()
        if not orphans:
            return
        log.warning(
            "%d call(s) were in progress when an earlier daemon stopped: posting their hangup "
            "callbacks (HangupSource=%s)", len(orphans), call_params.SOURCE_RESTART)
        for orphan in orphans:
            self._watched[orphan.call.call_uuid] = orphan

    def _ask_all(self) -> bool:
        """Ask FreeSWITCH about each watched orphan; False when it could not be asked."""
        for uuid in list(self._watched):
            if uuid not in self._watched:  # its CHANNEL_HANGUP_COMPLETE came meanwhile
                continue
            try:
                reply = self._inbound.api(commands.uuid_exists(uuid), timeout=self._timeout_s,
                                          check=False).strip()
            except UnsafeValue:
                reply = "false"  # not a uuid FreeSWITCH could have: it cannot be there
            except PlivoXMLError as exc:
                log.debug("orphaned call %s: cannot ask FreeSWITCH (%s)", uuid, exc)
                return False
            if reply == "false":
                orphan = self._watched.pop(uuid, None)
                if orphan is not None:
                    self._post(orphan, None, "its channel no longer exists")
            elif reply == "true":
                if uuid not in self._alive_seen:
                    self._alive_seen.add(uuid)
                    log.warning("call %s outlived the daemon that ran it: its hangup callback "
                                "is posted when FreeSWITCH says it ended", uuid,
                                extra={"call_uuid": uuid})
            else:
                log.warning("orphaned call %s: unexpected uuid_exists reply %r", uuid, reply,
                            extra={"call_uuid": uuid})
        return True

    def _post(self, orphan: Orphan, event: Event | None, why: str) -> None:
        call = orphan.call
        self._alive_seen.discard(call.call_uuid)
        params = call_params.hangup_params(
            Event(call.channel),
            event,
            cause=RESTART_CAUSE,
            # the source says the daemon restarted; with FreeSWITCH's hangup event its cause
            # gives the code, without one nobody can say how the call ended: 0 Unknown
            source=call_params.SOURCE_RESTART,
            answered_us=call.answered_us,
            now_us=int(orphan.last_seen * _MICROS),
            reason=causes.UNKNOWN if event is None else None,
        )
        try:
            webhook = Webhook(call.hangup_url, call.hangup_method, params, call.call_uuid,
                              HANGUP_KIND)
        except ValueError as exc:
            log.error("call %s: hangup callback not sent: %s", call.call_uuid, exc,
                      extra={"call_uuid": call.call_uuid})
            self._outbox.call_ended(call.call_uuid)
            return
        self._outbox.emit(webhook)
        log.info("call %s: hangup callback posted after a restart (%s; %.0f s after its start)",
                 call.call_uuid, why, time.time() - call.started,
                 extra={"call_uuid": call.call_uuid})
