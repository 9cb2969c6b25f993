"""The outbox's call journal and heartbeat (split from effects/outbox.py).

The call journal (store.py, table `calls`): `call_started` / `call_answered` / `call_ended`
keep a row per call in progress with a hangup URL (its `Caller-*` headers and
JOURNAL_HEADERS); emitting a `hangup` webhook deletes its call's row in the same transaction
(Outbox.emit). Rows found in the file when it is opened are calls an earlier process never
finished: `take_orphans()` hands them out once (effects/recovery.py posts their hangup
callbacks), `on_orphans` is called when a file opened later brings some. Every `HEARTBEAT_S`
(and at stop) the file records that this process runs, so an orphan's end can be put at the
last moment its daemon was known alive.

`CallJournal` is a base class of `Outbox`: its methods work on the outbox's current `store`
(which changes when a file opens late) and are part of the Outbox's interface.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import attrs
import gevent

from plivoxml_fs.call.params import SIP_HEADER_VARIABLE
from plivoxml_fs.effects.store import MEMORY, CallRow, OutboxStore

log = logging.getLogger("plivoxml_fs.outbox")

#: How often the file records that this process runs (an orphaned call ended after that).
HEARTBEAT_S = 5.0
#: What the journal keeps of a call's channel data besides its `Caller-*` headers: what the
#: call parameters (call/params.py) are built from. A test pins that the parameters from the
#: journalled headers of a real connect reply are those of the whole reply.
JOURNAL_HEADERS = (
    "Unique-ID", "Channel-Unique-ID", "Channel-Caller-ID-Number", "Channel-Caller-ID-Name",
    "Channel-Destination-Number", "Call-Direction", "Answer-State", "variable_direction",
    "variable_sip_rdnis",
)


@attrs.frozen
class Orphan:
    """A call an earlier process took and never posted the hangup callback of."""

    call: CallRow
    last_seen: float  # epoch seconds: the last moment its daemon was known to run


def journal_channel(channel: Any) -> dict[str, str]:
    """What the journal keeps of a call's channel data: its `Caller-*` headers and
    JOURNAL_HEADERS and the SIP headers (the X-PH-* ones are call parameters), decoded."""
    kept = channel.starting_with("Caller-", SIP_HEADER_VARIABLE)
    for name in JOURNAL_HEADERS:
        value = channel.get(name)
        if value is not None:
            kept[name] = value
    return kept


def orphans_of(store: OutboxStore) -> list[Orphan]:
    """The calls `store`'s journal holds (none for a memory store)."""
    if store.path == MEMORY:
        return []
    calls, alive = store.calls(), store.last_alive() or 0.0
    # it was up at its start, its answer and (as far as anyone knows) the last heartbeat
    return [Orphan(c, max(c.started, c.answered_us / 1_000_000, alive)) for c in calls]


class CallJournal:
    """The journal half of `Outbox` (which sets `store`, `_orphans`, `_journal_failing`)."""

    store: OutboxStore
    _orphans: list[Orphan]
    _journal_failing: bool

    @property
    def durable(self) -> bool:
        """Whether callbacks are written to a file now (False: in memory only)."""
        return self.store.path != MEMORY

    def call_started(self, call_uuid: str, url: str, method: str, channel: Any,
                     answered_us: int = 0) -> None:
        """Journal a call in progress whose hangup callback goes to `url` (see the module)."""
        call = CallRow(call_uuid, url, method, journal_channel(channel), answered_us,
                       time.time())
        self._journal(self.store.call_started, call)

    def call_answered(self, call_uuid: str, answered_us: int) -> None:
        self._journal(self.store.call_answered, call_uuid, answered_us)

    def call_ended(self, call_uuid: str) -> None:
        """Forget a journalled call that gets no hangup webhook (emit forgets the others)."""
        self._journal(self.store.call_ended, call_uuid)

    def take_orphans(self) -> list[Orphan]:
        """The calls earlier processes left in the journal, each handed out once."""
        orphans, self._orphans = self._orphans, []
        return orphans

    def _journal(self, write: Callable[..., None], *args: Any) -> None:
        try:
            write(*args)
        except (OSError, sqlite3.Error) as exc:
            if not self._journal_failing:
                log.error("outbox %s: the call journal cannot be written (%s): a call in "
                          "progress when the daemon stops may get no hangup callback",
                          self.store.path, exc)
            self._journal_failing = True
            return
        self._journal_failing = False

    def _heartbeat_forever(self) -> None:
        while True:
            self._mark_alive()
            gevent.sleep(HEARTBEAT_S)

    def _mark_alive(self) -> None:
        if not self.durable:
            return
        try:
            self.store.mark_alive(time.time())
        except (OSError, sqlite3.Error) as exc:
            log.debug("outbox %s: heartbeat not written (%s)", self.store.path, exc)
