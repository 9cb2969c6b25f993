"""One room, pure: its members, settings, timers and recording; every room decision is made here.

A `Room` is made when the first caller claims a room name (`join`), learns its
Conference-Unique-ID from FreeSWITCH's events, and ends with conference-destroy. Its inputs:

- `join(seat, now)` / `leave(call_uuid, now, hung_up=)`: a caller's seat (Exit: why it left);
- `apply(event, now)`: a `fs.events.ConferenceEvent`, a member's own `fs.events.Dtmf`, or a
  `CommandDone` (the answer to a Command it decided); `tick(now)`: a timer is due;
- `mute`, `deaf`, `hold`, `relate`, `kick`, `command`, `record`: what the control API asks
  (rooms/control.py), through `RoomEngine.decide`; it reads `view()` and `present()`
  (rooms/views.py snapshots), `recording`, `recording_live` and `shown_recording`.

Each returns a list of decisions (rooms/model.py); nothing here sends, waits or reads a clock.
The same event may arrive twice (from the inbound connection and from the member's own
socket): events are applied once per Event-Sequence, and each handler is idempotent anyway.
After conference-destroy only a stop-recording still counts (the recorder is a thread).

`<Conference>` rules (spec/plivo-conference.md, docs/conference.md):
- the first claimant's RoomSettings are the room's (a later caller with others: one INFO line);
  the time limit counts from that first claim;
- add-member: maxMembers=1 locks the room (FreeSWITCH takes no limit of 1); the room's
  recording (rooms/recordings.py `RoomRecording`) starts when record="true" and it has none
  (with recordWhenAlone="false" only once two members are in, and it pauses while one member
  is left); the enter callback (held back until `recording start` is answered, so it carries
  RecordUrl only for a recording that runs); sendDigits to the member's phone;
- a member's `*` with hangupOnStar: `hup` it (reason hangup-on-star); digitsMatch patterns: a
  digits callback; floor-change to a member with floorEvent: a floor callback;
- at the time limit every member in the room is kicked (reason time-limit);
- stop-recording: the record callback to the member who started it, with FreeSWITCH's
  duration (the audio recorded, pauses left out); `lost_connection`: a recording in flight is
  reported at once by our clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import commands
from plivoxml_fs.fs.events import ConferenceEvent, Dtmf
from plivoxml_fs.rooms import callbacks, names, recordings, room_music
from plivoxml_fs.rooms.base import RoomBase
from plivoxml_fs.rooms.model import (
    ArmTimer,
    Command,
    CommandDone,
    Decision,
    DigitsMatcher,
    Emit,
    Exit,
    ExitReason,
    Member,
    Recording,
    Relation,
    Release,
    RoomContext,
    RoomKind,
    RoomSettings,
    RoomState,
    Seat,
)
from plivoxml_fs.rooms.views import ConferenceView, MemberView

log = logging.getLogger("plivoxml_fs.rooms")

class Room(RoomBase):
    """One room's state; changed only through its inputs, each returning decisions."""

    def __init__(self, name: str, ctx: RoomContext, settings: RoomSettings, since: float,
                 kind: RoomKind = RoomKind.CONFERENCE, scope: str = "") -> None:
        self.name = name  # the user's name: what callbacks and log lines show
        self.scope = scope  # whose room: the control API account ("" = none configured)
        # FreeSWITCH's name of the room: what commands address (never shown)
        self.fs_name = names.fs_room_name(name, scope)
        self.kind = kind
        self.ctx = ctx
        self.settings = settings
        self.since = since
        self.uid: str | None = None
        self.state = RoomState.CLAIMED
        self.creator: str | None = None  # the call uuid of the first claimant
        self.members: dict[str, Member] = {}  # call uuid -> seat, in join order
        self.others: dict[int, str] = {}  # members without a seat of ours: id -> channel
        self.floor: int | None = None
        self.rec = recordings.RoomRecording(name, ctx, self._command, _policy(settings))
        self._enters_held: list[str] = []  # enter callbacks waiting for `recording start`
        RoomBase.__init__(self)
        self._deadline_armed = False
        self.wait_music = room_music.WaitMusic()  # a waitSound with Speaks (room_music.py)

    # -- what the registry asks -------------------------------------------------------------

    @property
    def deadline(self) -> float:
        return self.since + self.settings.time_limit_s

    @property
    def done(self) -> bool:
        """Nothing more is owed: no seats, and the room ended or has no recording running."""
        return not self.members and (self.state == RoomState.ENDED or not self.rec.owed)

    @property
    def recording(self) -> Recording | None:
        return self.rec.recording

    @property
    def recording_live(self) -> bool:
        """Started and not yet stopped (its record callback still owed)."""
        return self.rec.owed

    def successor(self, uid: str) -> Room:
        """The room FreeSWITCH made anew under this room's name (uid `uid`): it takes the
        seats that never entered this one, and this room's creator and settings."""
        new = Room(self.name, self.ctx, self.settings, self.since, self.kind, self.scope)
        new.fs_name, new.creator, new.uid = self.fs_name, self.creator, uid
        new.wait_music.music = self.wait_music.music
        for call_uuid, member in list(self.members.items()):
            if member.member_id is None:
                new.members[call_uuid] = self.members.pop(call_uuid)
        return new

    def member(self, call_uuid: str) -> Member | None:
        return self.members.get(call_uuid)

    def by_member_id(self, member_id: int) -> Member | None:
        return next((m for m in self.members.values() if m.member_id == member_id), None)

    # -- what the control API reads (rooms/views.py snapshots) ------------------------------

    def present(self) -> list[MemberView]:
        """The members of ours in the room now (entered, not left), in join order."""
        return [MemberView.of(m) for m in self.members.values()
                if m.in_room and m.member_id is not None]

    def member_view(self, call_uuid: str) -> MemberView | None:
        """The seat of `call_uuid` (in the room or not yet), None when it has none here."""
        member = self.members.get(call_uuid)
        return MemberView.of(member) if member is not None else None

    def view(self) -> ConferenceView:
        return ConferenceView(self.name, self.uid, self.since, tuple(self.present()),
                              tuple(self.members), tuple(self.others))

    # -- callers ----------------------------------------------------------------------------

    def join(self, seat: Seat, now: float) -> tuple[Member, list[Decision]]:
        """Seat `seat.call_uuid`; the member (whose room settings are the room's) and decisions."""
        decisions: list[Decision] = []
        if self.creator is None:
            self.creator = seat.call_uuid
        elif seat.settings != self.settings:
            # INFO: on Plivo too the room keeps its creator's settings; this is no fault
            log.info("conference %s: this call asks for other room settings than the first "
                     "caller (%s); the first caller's are kept", self.name,
                     self.settings.differences(seat.settings),
                     extra={"call_uuid": seat.call_uuid, "conference": self.name})
        member = self.members.get(seat.call_uuid)
        if member is None:
            matcher = (DigitsMatcher(seat.digits_match, seat.digits_match_timeout_s)
                       if seat.digits_match else None)
            member = self.members[seat.call_uuid] = Member(seat, muted=seat.muted,
                                                           deaf=seat.deaf, held=seat.held,
                                                           matcher=matcher)
        if not self._deadline_armed:
            self._deadline_armed = True
            decisions.append(ArmTimer(self.deadline))
        return member, decisions

    def is_creator(self, call_uuid: str) -> bool:
        return self.creator == call_uuid

    def leave(self, call_uuid: str, now: float, *, hung_up: bool) -> tuple[Exit, list[Decision]]:
        """The caller's verb is done with its seat: why it left, and the callbacks still owed."""
        decisions = self._release_enter(call_uuid) if call_uuid in self._enters_held else []
        member = self.members.pop(call_uuid)
        if hung_up:
            reason = ExitReason.HANGUP
        elif member.member_id is None:
            reason = ExitReason.ROOM_FULL
            log.info("call %s: conference %s is full; the member did not enter", call_uuid,
                     self.name, extra=self._extra(call_uuid))
        else:
            reason = member.reason or ExitReason.ENDED
        if member.member_id is not None:
            decisions.extend(_some(self._callback(member, "exit", {})))
            params = self.conference_params(member)
        else:  # it never entered: no room id, no recording of its
            params = {"ConferenceName": self.name, "ConferenceUUID": "", "ConferenceMemberID": ""}
        if not self.members and self.state != RoomState.ENDED:
            decisions.extend(self.rec.emptied(now))
        return Exit(self.name, params["ConferenceUUID"], member.member_id, reason, params), \
            decisions

    # -- the control API (and MultiPartyCall) -----------------------------------------------

    def mute(self, member_id: int, on: bool = True) -> list[Decision]:
        return _some(self._command("mute" if on else "unmute", str(member_id)))

    def deaf(self, member_id: int, on: bool = True) -> list[Decision]:
        return _some(self._command("deaf" if on else "undeaf", str(member_id)))

    def hold(self, member_id: int, on: bool = True) -> list[Decision]:
        """Hold: the member hears the hold sound and is not heard (the hold-member event
        sets `held`)."""
        return _some(self._command("hold" if on else "unhold", str(member_id)))

    def relate(self, member_id: int, other_id: int, relation: Relation) -> list[Decision]:
        """`member_id` stops hearing (or being heard by) `other_id`; CLEAR undoes both."""
        member = self.by_member_id(member_id)
        if member is not None:
            if relation == Relation.CLEAR:
                member.relations.pop(other_id, None)
            else:
                member.relations[other_id] = relation
        return _some(self._command("relate", str(member_id), str(other_id), relation.value))

    def command(self, subcommand: str, *args: str, call_uuid: str = "") -> list[Decision]:
        """`conference <room> <subcommand> <args>` as a decision (rooms/control.py's inputs)."""
        return _some(self._command(subcommand, *args, call_uuid=call_uuid))

    def kick(self, member_id: int, reason: ExitReason = ExitReason.KICKED) -> list[Decision]:
        member = self.by_member_id(member_id)
        if member is None or member.reason is not None:
            return []
        member.reason = reason
        return [Release(member.call_uuid, member_id, reason),
                *_some(self._command("kick", str(member_id), call_uuid=member.call_uuid))]

    # -- events -----------------------------------------------------------------------------

    def apply(self, event: Any, now: float) -> list[Decision]:
        """One input: a ConferenceEvent of this room, a member's Dtmf, or a CommandDone."""
        if isinstance(event, CommandDone):
            return self._done(event)
        if isinstance(event, Dtmf):
            member = self.members.get(event.unique_id)
            return self._digit(member, event.digit, now) if member is not None else []
        if not isinstance(event, ConferenceEvent):
            raise TypeError(f"room {self.name}: cannot apply {type(event).__name__}")
        if not self._first_sight(event):
            return []
        if self.state == RoomState.ENDED and event.action != "stop-recording":
            return []  # the recorder thread may finish after conference-destroy
        handler = _TABLE.get(event.action)
        decisions = handler(self, event, now) if handler else []
        if not self._deadline_armed and self.members:  # a successor room (registry.py)
            self._deadline_armed = True
            decisions.insert(0, ArmTimer(self.deadline))
        return decisions

    def tick(self, now: float) -> list[Decision]:
        """The room's timers: the time limit kicks every member in the room once it is due;
        a recording the room still owes after its last member left is reported by our clock."""
        decisions = [] if self.members else self.rec.tick(now)
        if self.state == RoomState.ENDED or not self.members:
            return decisions
        if now < self.deadline:  # woken early: wait on
            return [*decisions, ArmTimer(self.deadline)]
        for member in list(self.members.values()):
            if member.in_room and member.reason is None:
                decisions.extend(self._time_up(member))
        return decisions

    def lost_connection(self, now: float) -> list[Decision]:
        """The inbound connection is gone: a recording in flight is reported now, by our clock."""
        return self.rec.lost(now)

    # -- the table --------------------------------------------------------------------------

    def _added(self, event: ConferenceEvent, now: float) -> list[Decision]:
        if event.member_id is None or event.unique_id is None:
            return []
        member = self.members.get(event.unique_id)
        if member is None:
            self.others[event.member_id] = event.unique_id
            return self.rec.sized(event.size)
        if member.member_id is not None:
            return []
        member.member_id, member.joined_at, member.in_room = event.member_id, now, True
        decisions: list[Decision] = []
        if self.settings.max_members == 1:  # FreeSWITCH takes no limit of 1: lock the room
            decisions.extend(_some(self._command("lock", call_uuid=member.call_uuid)))
        decisions.extend(self.rec.entered(member, event.size, self.uid or ""))
        decisions.extend(self.rec.sized(event.size))
        if self.rec.pending:
            self._enters_held.append(member.call_uuid)
        else:
            decisions.extend(_some(self._callback(member, "enter", {})))
        if member.seat.send_digits:
            decisions.extend(_some(self._command("dtmf", str(event.member_id),
                                                 member.seat.send_digits,
                                                 call_uuid=member.call_uuid)))
        if now >= self.deadline:
            decisions.extend(self._time_up(member))
        return decisions

    def _deleted(self, event: ConferenceEvent, now: float) -> list[Decision]:
        if event.member_id is None:
            return []
        self.others.pop(event.member_id, None)
        member = self.by_member_id(event.member_id)
        if member is not None:
            member.in_room = False
        if self.floor == event.member_id:
            self.floor = None
        return self.rec.sized(event.size)

    def _kicked(self, event: ConferenceEvent, now: float) -> list[Decision]:
        member = self.by_member_id(event.member_id) if event.member_id is not None else None
        if member is not None and member.reason is None:
            member.reason = ExitReason.KICKED
        return []

    def _floor(self, event: ConferenceEvent, now: float) -> list[Decision]:
        new = event.get("New-ID") or ""
        floor = int(new) if new.isdigit() else None
        if floor == self.floor:
            return []
        self.floor = floor
        member = self.by_member_id(floor) if floor is not None else None
        if member is None or not member.seat.floor_event:
            return []
        return _some(self._callback(member, "floor", {}))

    def _destroyed(self, event: ConferenceEvent, now: float) -> list[Decision]:
        self.state = RoomState.ENDED
        for member in self.members.values():
            member.in_room = False
        return []

    # -- members' own events and answers ---------------------------------------------------

    def _digit(self, member: Member, digit: str, now: float) -> list[Decision]:
        if member.member_id is None:
            return []
        decisions: list[Decision] = []
        seat = member.seat
        if digit == "*" and seat.hangup_on_star and member.reason is None:
            member.reason = ExitReason.HANGUP_ON_STAR
            decisions.append(Release(member.call_uuid, member.member_id, member.reason))
            decisions.extend(_some(self._command("hup", str(member.member_id),
                                                 call_uuid=member.call_uuid)))
        if member.matcher is not None:
            matched = member.matcher.press(digit, now)
            if matched is not None:
                decisions.extend(_some(self._callback(member, "digits",
                                                      {"ConferenceDigitsMatch": matched})))
        return decisions

    def _done(self, done: CommandDone) -> list[Decision]:
        call_uuid = self._sent.pop(done.token, "")
        if done.token.startswith(room_music.TOKEN):
            return room_music.answered(self, done, call_uuid)
        if done.token.startswith(recordings.TOKEN):
            decisions = self.rec.answered(done)
            if not self.rec.pending:
                for held in list(self._enters_held):
                    decisions.extend(self._release_enter(held))
            return decisions
        if not done.ok:
            cmd, text = self.shown(done.token.split(" ", 1)[-1]), self.shown(done.text.strip())
            if call_uuid:
                log.warning("call %s: %s: %s", call_uuid, cmd, text, extra=self._extra(call_uuid))
            else:
                log.warning("conference %s: %s: %s", self.name, cmd, text,
                            extra={"conference": self.name})
        return []

    def shown(self, text: str) -> str:
        """`text` (a command, FreeSWITCH's answer) with the room's id as the user's name."""
        return text.replace(self.fs_name, self.name) if self.fs_name != self.name else text

    # -- recording (rooms/recordings.py RoomRecording) ----------------------------------------

    def record(self, rec: Recording) -> list[Decision]:
        """Record the room to `rec` now (the control API's recording: rooms/control.py)."""
        return self.rec.start(rec)

    def _release_enter(self, call_uuid: str) -> list[Decision]:
        self._enters_held.remove(call_uuid)
        member = self.members.get(call_uuid)
        return _some(self._callback(member, "enter", {})) if member is not None else []

    # -- helpers ----------------------------------------------------------------------------

    def _time_up(self, member: Member) -> list[Decision]:
        log.info("call %s: conference %s reached its time limit of %d s", member.call_uuid,
                 self.name, self.settings.time_limit_s, extra=self._extra(member.call_uuid))
        assert member.member_id is not None
        return self.kick(member.member_id, ExitReason.TIME_LIMIT)

    def _command(self, subcommand: str, *args: str, call_uuid: str = "",
                 token: str | None = None) -> Command | None:
        """The Command for `conference <room> <subcommand> <args>`; None (one ERROR) when a
        value cannot be sent."""
        try:
            cmd = commands.conference_api(self.fs_name, subcommand, *args)
        except UnsafeValue as exc:
            self._tokens += 1  # a command not sent still takes its number
            log.error("conference %s: %s not sent: %s", self.name, subcommand, exc,
                      extra=self._extra(call_uuid))
            return None
        return self._issue(cmd, token or subcommand, call_uuid)

    @property
    def shown_recording(self) -> Recording | None:
        """The recording callbacks name: the room's, once `recording start` was answered."""
        return self.rec.shown

    def conference_params(self, member: Member) -> dict[str, str]:
        return callbacks.conference_params(self.name, self.uid, self.shown_recording, member)

    def _callback(self, member: Member, action: str, extra: Mapping[str, str]) -> Emit | None:
        return callbacks.member_callback(self.name, self.uid, self.shown_recording, member,
                                         action, extra)

    def _extra(self, call_uuid: str) -> dict[str, str]:
        return {"call_uuid": call_uuid, "conference": self.name}


def _policy(settings: RoomSettings) -> recordings.Policy | None:
    """A `<Conference>` room's recording: recordWhenAlone="false" starts it with the second
    member and pauses it while one is left."""
    if not settings.record:
        return None
    alone = settings.record_when_alone
    # transcriptionUrl asks for the transcript (transcriptionType auto, hybrid and manual are
    # all machine transcription here: docs/transcription.md)
    return recordings.Policy(settings.record_file_format, 1 if alone else 2, not alone,
                             settings.transcription_url, settings.transcription_method)


def _recording_event(room: Room, event: ConferenceEvent, now: float) -> list[Decision]:
    return room.rec.event(event, now)


def _some(*decisions: Decision | None) -> list[Decision]:
    return [d for d in decisions if d is not None]


def _member_flag(attribute: str, value: bool):
    def handler(room: Room, event: ConferenceEvent, now: float) -> list[Decision]:
        member = room.by_member_id(event.member_id) if event.member_id is not None else None
        if member is not None:
            setattr(member, attribute, value)
        return []

    return handler


def _then_music(handler):
    """`handler`, then who hears the room's spoken wait music (its size changed)."""
    def both(room: Room, event: ConferenceEvent, now: float) -> list[Decision]:
        return handler(room, event, now) + room_music.sized(room, event)

    return both


_TABLE: dict[str, Callable[[Room, ConferenceEvent, float], list[Decision]]] = {
    "add-member": _then_music(Room._added),
    "del-member": _then_music(Room._deleted),
    "play-file-member": lambda room, event, now: room_music.play_started(room, event),
    "play-file-member-done": lambda room, event, now: room_music.play_done(room, event),
    "kick-member": Room._kicked,
    "hup-member": Room._kicked,
    "floor-change": Room._floor,
    "mute-member": _member_flag("muted", True),
    "unmute-member": _member_flag("muted", False),
    "deaf-member": _member_flag("deaf", True),
    "undeaf-member": _member_flag("deaf", False),
    "hold-member": _member_flag("held", True),
    "unhold-member": _member_flag("held", False),
    "start-recording": _recording_event,
    "pause-recording": _recording_event,
    "resume-recording": _recording_event,
    "stop-recording": _recording_event,
    "conference-destroy": Room._destroyed,
}
