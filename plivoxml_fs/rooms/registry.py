"""Who owns which room, and the one path every room input and decision takes.

- `RoomOwner` is the ownership interface: the room a claim of a name gets, the room an event
  belongs to, and when a room is forgotten. `LocalRooms` keeps this daemon's rooms by name
  while claimed and by Conference-Unique-ID once FreeSWITCH made them; a registry shared by
  several daemons (several FreeSWITCH boxes) can stand in its place without touching `Room`.
- `RoomEngine` is what the rest of the daemon talks to: `join`/`leave` from a caller's verb,
  `own_event` for a member's own channel events (its socket), `on_event` for the inbound
  connection's events, `lost_connection`, and `decide` for every other input (the control
  API's, a verb's, an effect's). Each runs the room's input and hands the decisions
  to the `Edge` (effects/rooms.py sends commands over the inbound connection, emits webhooks
  into the outbox, arms timers on the hub; testing.FakeEdge records them). A command's answer
  comes back into the room as a `CommandDone`, a timer as `tick`.

Pure Python: no gevent, no sockets, no clock (the Edge says what time it is).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.fs.events import CONFERENCE_SUBCLASS, ConferenceEvent, Dtmf
from plivoxml_fs.rooms.history import RoomLog, RoomRecord
from plivoxml_fs.rooms.model import (
    ArmTimer,
    Command,
    CommandDone,
    Decision,
    Emit,
    Exit,
    Member,
    Recording,
    Release,
    RoomContext,
    RoomKind,
    RoomState,
    Seat,
    Transcribe,
)
from plivoxml_fs.rooms.mpc import MpcRoom
from plivoxml_fs.rooms.room import Room

log = logging.getLogger("plivoxml_fs.rooms")


class Edge(Protocol):
    """Performs decisions: the only part of the engine that does I/O."""

    def now(self) -> float: ...  # epoch seconds

    def send(self, command: Command, done: Callable[[CommandDone], None], via: Any) -> None:
        """Send `command.cmd` (over the inbound connection; `via`, the member's own connection,
        when that is down), then call `done` with the answer; never raises."""

    def emit(self, webhook: Any) -> None: ...

    def transcribe(self, job: Any) -> None:
        """Queue a `Transcribe` (durably) for the transcription workers; never raises."""

    def arm(self, at: float, fire: Callable[[], None]) -> Any:
        """Call `fire` at `at` (epoch seconds); returns a handle whose `cancel()` stops it."""


class _Kept:
    """A timer handle of an edge that keeps its timers in a list."""

    def __init__(self, timers: list, entry: tuple) -> None:
        self._timers, self._entry = timers, entry

    def cancel(self) -> None:
        if self._entry in self._timers:
            self._timers.remove(self._entry)


class SyncEdge:
    """An Edge without a hub (a CallDriver built bare, as tests do): commands over the member's
    own connection, answered before `send` returns; webhooks into `outbox`; timers are kept in
    `timers` and fire only when someone calls them (the daemon uses effects.rooms.GeventEdge)."""

    def __init__(self, outbox: Any, clock: Callable[[], float]) -> None:
        self._outbox, self._clock = outbox, clock
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def now(self) -> float:
        return self._clock()

    def send(self, command: Command, done: Callable[[CommandDone], None], via: Any) -> None:
        if command.make_dir:
            try:
                Path(command.make_dir).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                done(CommandDone(command.token, f"-ERR {exc}"))
                return
        if via is None:
            done(CommandDone(command.token, "-ERR no connection to send it on"))
            return
        try:
            text = via.api(command.cmd, check=False)
        except PlivoXMLError as exc:
            text = f"-ERR {exc}"
        done(CommandDone(command.token, text))

    def emit(self, webhook: Any) -> None:
        try:
            self._outbox.emit(webhook)
        except (ValueError, PlivoXMLError) as exc:
            log.error("call %s: %s callback not sent: %s", webhook.call_uuid, webhook.kind, exc,
                      extra={"call_uuid": webhook.call_uuid})

    def transcribe(self, job: Any) -> None:
        # no transcription workers without the daemon: said once per job, never lost silently
        log.error("call %s: recording %s not transcribed: no transcription workers here "
                  "(a CallDriver built without the daemon)", job.call_uuid, job.recording_id,
                  extra={"call_uuid": job.call_uuid})

    def arm(self, at: float, fire: Callable[[], None]) -> _Kept:
        self.timers.append((at, fire))
        return _Kept(self.timers, self.timers[-1])


class RoomOwner(Protocol):
    """Which room a name or an event belongs to (this daemon's, or a shared registry's)."""

    def for_claim(self, seat: Seat, make: Callable[[], Room]) -> Room:
        """The live room `seat` asks for by kind, scope and name (made by `make` if none is
        live)."""

    def for_event(self, event: ConferenceEvent) -> Room | None:
        """The room FreeSWITCH's room `event.conference_name` / `conference_uid` is."""

    def settle(self, room: Room) -> None: ...

    def rooms(self) -> list[Room]: ...


class LocalRooms:
    """This daemon's rooms: by kind, scope and name while claimed (a user's name and
    FreeSWITCH's room name, `Room.fs_name` from rooms/names.py, differ when the user's would
    not survive FreeSWITCH's strings), by Conference-Unique-ID once made."""

    def __init__(self) -> None:
        # (kind, scope, user's name) -> live room
        self._by_name: dict[tuple[Any, str, str], Room] = {}
        self._by_fs: dict[str, Room] = {}  # FreeSWITCH's room name -> the room claiming it
        self._by_uid: dict[str, Room] = {}

    def for_claim(self, seat: Seat, make: Callable[[], Room]) -> Room:
        key = (seat.kind, seat.scope, seat.name)
        room = self._by_name.get(key)
        if room is None or room.state == RoomState.ENDED:
            room = self._by_name[key] = make()
            self._by_fs[room.fs_name] = room
        return room

    def for_event(self, event: ConferenceEvent) -> Room | None:
        room = self._by_uid.get(event.conference_uid)
        if room is not None:
            return room
        room = self._by_fs.get(event.conference_name)
        if room is None or not _makes(event, room):
            return None  # not a room of ours, or a late event of one forgotten
        if room.uid is not None:
            # FreeSWITCH made a new room of this name: the seats not yet in follow to it
            room = self._successor(room, event.conference_uid)
        room.uid = event.conference_uid
        self._by_uid[room.uid] = room
        return room

    def _successor(self, old: Room, uid: str) -> Room:
        new = old.successor(uid)
        self._by_name[_key(old)] = new
        self._by_fs[new.fs_name] = new
        return new

    def settle(self, room: Room) -> None:
        """Forget the room's name once no seat holds it, and the room once nothing is owed."""
        if not room.members and self._by_name.get(_key(room)) is room:
            del self._by_name[_key(room)]
        if not room.members and self._by_fs.get(room.fs_name) is room:
            del self._by_fs[room.fs_name]
        if room.done and room.uid is not None and self._by_uid.get(room.uid) is room:
            del self._by_uid[room.uid]

    def rooms(self) -> list[Room]:
        every = (*self._by_name.values(), *self._by_fs.values(), *self._by_uid.values())
        return list({id(r): r for r in every}.values())


def _key(room: Room) -> tuple[Any, str, str]:
    return room.kind, room.scope, room.name


def _makes(event: ConferenceEvent, room: Room) -> bool:
    """Whether `event` says FreeSWITCH's room `event.conference_uid` is the claimed `room`:
    its creation, or one of the room's waiting seats entering it."""
    if event.action == "conference-create":
        return True
    member = room.members.get(event.unique_id or "")
    return event.action == "add-member" and member is not None and member.member_id is None


class RoomEngine:
    """The daemon's rooms and the one path their inputs and decisions take."""

    def __init__(self, ctx: RoomContext, edge: Edge, owner: RoomOwner | None = None) -> None:
        self.ctx = ctx
        self.edge = edge
        self.owner: RoomOwner = owner or LocalRooms()
        #: Told each room that is over (FreeSWITCH's room gone, no seat left): the history.
        self.on_ended: Callable[[Room, RoomRecord], None] | None = None
        #: Told each digit a member pressed (its own socket's DTMF), after its room took it:
        #: the MPC's AI participants hear it (effects/aiagent.py `relay_digit`).
        self.on_digit: Callable[[Room, Dtmf], None] | None = None
        self._logs: dict[int, RoomLog] = {}  # id(room) -> its members' stays and recordings
        self._seats: dict[str, Room] = {}  # call uuid -> its room
        self._conns: dict[str, Any] = {}  # call uuid -> its own connection (commands' fallback)
        self._timers: dict[int, list[Any]] = {}  # id(room) -> its armed timers' handles

    # -- callers ----------------------------------------------------------------------------

    def join(self, seat: Seat, conn: Any = None) -> tuple[Room, Member]:
        """Seat a caller in the room of its name (made with its settings if there is none)."""
        now = self.edge.now()
        make = MpcRoom if seat.kind == RoomKind.MULTIPARTY_CALL else Room
        room = self.owner.for_claim(seat, lambda: make(seat.name, self.ctx, seat.settings,
                                                        now, seat.kind, seat.scope))
        member, decisions = room.join(seat, now)
        self._seats[seat.call_uuid] = room
        if conn is not None:
            self._conns[seat.call_uuid] = conn
        self._perform(room, decisions)
        return room, member

    def leave(self, call_uuid: str, *, hung_up: bool) -> Exit:
        """The caller's verb is done with its seat; the callbacks owed are emitted first."""
        room = self._seats.pop(call_uuid)
        now = self.edge.now()
        member = room.member(call_uuid)
        exit_, decisions = room.leave(call_uuid, now, hung_up=hung_up)
        if member is not None and member.member_id is not None:
            self._log(room).left(member, now, exit_.reason.value)
        self._perform(room, decisions)
        self._conns.pop(call_uuid, None)
        self._settle(room)
        return exit_

    def room_of(self, call_uuid: str) -> Room | None:
        return self._seats.get(call_uuid)

    # -- the control API, and every input from outside FreeSWITCH ------------------------------

    def made(self, account: str, kind: RoomKind = RoomKind.CONFERENCE) -> list[Room]:
        """The rooms of `account` FreeSWITCH has made (an ending one too), oldest first."""
        return sorted((r for r in self.owner.rooms() if r.scope == account and r.kind == kind
                       and r.uid is not None), key=lambda r: r.since)

    def live(self, account: str, kind: RoomKind = RoomKind.CONFERENCE) -> list[Room]:
        """The rooms of `account` FreeSWITCH has made and not yet ended, oldest first."""
        return [r for r in self.made(account, kind) if r.state == RoomState.OPEN]

    def find(self, account: str, name: str, kind: RoomKind = RoomKind.CONFERENCE) -> Room | None:
        """The live room `name` of `account` (None: none, or another account's)."""
        return next((r for r in self.live(account, kind) if r.name == name), None)

    def decide(self, room: Room, change: Callable[[float], list[Decision]]) -> None:
        """One input from outside FreeSWITCH (the control API's changes, a verb's spoken wait
        music, an AI participant's audio): `change(now)` is a pure room input (a room method,
        or one of rooms/control.py, mpc_control.py, mpc_rec_control.py); its decisions are
        performed as every input's, then the owner may forget what the room no longer needs."""
        self._perform(room, change(self.edge.now()))
        self._settle(room)

    def own_event(self, call_uuid: str, event: Dtmf | ConferenceEvent) -> None:
        """An event of the caller's own channel (its socket): its DTMF, its conference events.

        Conference events reach the room on the inbound connection too (the room applies
        each once); this way the room sees them while that connection is down or behind.
        Digits come only this way (the inbound connection does not subscribe DTMF, which
        FreeSWITCH would send for every channel on the box)."""
        room = self._seats.get(call_uuid)
        if room is None:
            return
        if isinstance(event, ConferenceEvent):
            self._conference(event)
            return
        self._perform(room, room.apply(event, self.edge.now()))
        if self.on_digit is not None:
            self.on_digit(room, event)

    # -- the inbound connection -------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """One event (conference::maintenance is acted on; others are not the rooms')."""
        if event.name != "CUSTOM" or event.subclass != CONFERENCE_SUBCLASS:
            return
        try:
            conf = ConferenceEvent.from_event(event)
        except PlivoXMLError as exc:
            log.warning("conference event ignored: %s", exc)
            return
        self._conference(conf)

    def _conference(self, conf: ConferenceEvent) -> None:
        room = self.owner.for_event(conf)
        if room is None:
            return
        for call_uuid in room.members:  # seats may have moved to a successor room
            self._seats[call_uuid] = room
        self._perform(room, room.apply(conf, self.edge.now()))
        self._settle(room)

    def lost_connection(self) -> None:
        """The inbound connection is gone: rooms report their recordings in flight; rooms no
        seat holds are forgotten (their destroy may never come). Members carry on."""
        now = self.edge.now()
        for room in self.owner.rooms():
            self._perform(room, room.lost_connection(now))
            if not room.members:
                room.state = RoomState.ENDED
            self._settle(room)

    # -- performing decisions ---------------------------------------------------------------

    def _perform(self, room: Room, decisions: list[Decision]) -> None:
        recording = getattr(room, "recording", None)  # a <Conference> room's (MPC: next)
        if isinstance(recording, Recording):
            self._log(room).recorded(recording)
        for decision in decisions:
            if isinstance(decision, Emit):
                self.edge.emit(decision.webhook)
            elif isinstance(decision, Transcribe):
                self.edge.transcribe(decision)
            elif isinstance(decision, Command):
                self.edge.send(decision, self._answer(room),
                               self._conns.get(decision.call_uuid))
            elif isinstance(decision, ArmTimer):
                handle = self.edge.arm(decision.at, self._ticker(room))
                self._timers.setdefault(id(room), []).append(handle)
            elif isinstance(decision, Release):
                log.debug("call %s: conference %s releases member %s (%s)", decision.call_uuid,
                          room.name, decision.member_id, decision.reason.value,
                          extra={"call_uuid": decision.call_uuid, "conference": room.name})

    def _settle(self, room: Room) -> None:
        """Let the owner forget what it may; a room that owes nothing has its timers cancelled
        (a default timeLimit is a day: its timer would hold the room that long)."""
        self.owner.settle(room)
        if room.done:
            for handle in self._timers.pop(id(room), ()):
                handle.cancel()
        if room.done and not room.members and id(room) in self._logs:
            log_ = self._logs.pop(id(room))
            if room.uid is not None and self.on_ended is not None:
                self.on_ended(room, log_.ended(room, self.edge.now()))

    def _log(self, room: Room) -> RoomLog:
        return self._logs.setdefault(id(room), RoomLog())

    def _answer(self, room: Room) -> Callable[[CommandDone], None]:
        def done(answer: CommandDone) -> None:
            self._perform(room, room.apply(answer, self.edge.now()))
            self._settle(room)

        return done

    def _ticker(self, room: Room) -> Callable[[], None]:
        def fire() -> None:
            self._perform(room, room.tick(self.edge.now()))
            self._settle(room)

        return fire
