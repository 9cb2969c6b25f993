"""One `<MultiPartyCall>`, pure: its participants, state, music, coach relations and callbacks.

The same protocol as rooms/room.py `Room` (RoomEngine drives both): `join`, `leave`, `apply`,
`tick`, `lost_connection`, `done`, `successor`, `state`, `members`, `fs_name`, `uid`. What an
MPC decides (docs/multipartycall.md):

- It is made by its first participant's claim (MPCInitialized, MPCUUID = ctx.new_id()) with that
  participant's `MpcSettings`; its FreeSWITCH room is `mpc-<MPCUUID>`, so a new MPC of an ended
  one's name never meets the old room's late events. maxDuration counts from then.
- Initialized -> Active (MPCStart) once a participant with startMpcOnEnter is in the room and,
  with waitForAgent, an Agent is too (`activate` is the control API's way). mod_conference's
  wait-mod is not used: the room decides.
- What each member hears and says is reconciled from the room's state (`_reconcile`): before
  the start, and while held, a member is muted and deaf (quiet) and hears its music as a
  member play (wait music before the start; its role's hold music when held; none gives
  silence), replayed on each play-file-member-done of the play id it started; otherwise it
  hears the room and speaks unless muted.
- Coach mode: a coaching supervisor is `relate <sup> <x> nospeak` to every member but Agents
  (set as soon as both are in the room, so for later joiners too); barge sets nothing.
- Ends: maxDuration (2000), the last participant leaving (1000), one left without stayAlone
  (1010), endMpcOnExit (1000: every other participant is released), `hangup` (3000). Members
  still in are released (`hup`, exit cause "Multiparty Call Ended"); MPCEnd is emitted after
  their ParticipantExit callbacks (or by a timer if one never leaves).
- Recording is a separate component (`recorder`, default none) called on start, join, leave,
  end and for its events.

The control API (through `RoomEngine.decide`) reads an MPC only as snapshots (`view()`,
`present()`, `member_view()`: rooms/views.py) and changes it with `activate`, `hangup`,
`mute`, `hold`, `coach`, `kick`, `command`, `member_play`, `stop_member_play`,
`dial_music` and `status_event`, each returning decisions.
"""

from __future__ import annotations

import collections
import logging
import types
from typing import Any

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import commands, member_commands
from plivoxml_fs.fs.events import ConferenceEvent, Dtmf
from plivoxml_fs.rooms import mpc_ai, mpc_events, mpc_hooks, mpc_media, mpc_model
from plivoxml_fs.rooms import mpc_callbacks as cb
from plivoxml_fs.rooms.base import RoomBase
from plivoxml_fs.rooms.model import (
    ArmTimer,
    CommandDone,
    Decision,
    Emit,
    Exit,
    ExitReason,
    Member,
    Release,
    RoomContext,
    RoomKind,
    RoomState,
    Seat,
)
from plivoxml_fs.rooms.mpc_hooks import Media, MpcRecorder
from plivoxml_fs.rooms.mpc_model import EXIT_CAUSES, GROUP_OF, MpcSettings, MpcState, Termination
from plivoxml_fs.rooms.views import MemberView, MpcView, RecordingFile

log = logging.getLogger("plivoxml_fs.rooms")

#: MPCEnd's wait for members still in, in command_timeout_s: past the verb's stuck bound (2).
END_BACKSTOP = 3
#: The FreeSWITCH room name of an MPC.
FS_PREFIX = "mpc-"


class MpcRoom(RoomBase):
    """One MPC's state; changed only through its inputs, each returning decisions."""

    def __init__(self, name: str, ctx: RoomContext, settings: MpcSettings, since: float,
                 kind: RoomKind = RoomKind.MULTIPARTY_CALL, scope: str = "") -> None:
        self.name = name  # the user's: what callbacks and log lines show
        self.scope = scope  # the account's ("" until the control API brings accounts)
        self.kind = kind
        self.ctx = ctx
        self.settings = settings
        self.since = since
        self.mpc_uuid = ctx.new_id()
        self.fs_name = FS_PREFIX + self.mpc_uuid
        self.uid: str | None = None
        self.state = RoomState.CLAIMED
        self.status = MpcState.INITIALIZED
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.termination: Termination | None = None
        self.creator: str | None = None
        self.members: dict[str, Member] = {}
        self.media: dict[str, Media] = {}
        self.related: set[tuple[int, int]] = set()  # (supervisor id, other id): nospeak set
        self.ai_related: set[tuple[int, int]] = set()  # (ai-agent id, other id): nohear set
        self.coaching: dict[str, bool] = {}  # call uuid -> coach mode now (supervisors)
        self.dialling: dict[str, mpc_model.Music] = {}  # add participant id -> its dial music
        self.sequence: collections.Counter[str] = collections.Counter()
        self.recorder: MpcRecorder = mpc_hooks.make_recorder(self)
        RoomBase.__init__(self)
        self._end_owed = False  # MPCEnd not yet emitted
        self._initialized = False

    # -- the registry's protocol --------------------------------------------------------------

    @property
    def scale(self) -> float:
        return self.ctx.settings.mpc_time_scale

    @property
    def deadline(self) -> float:
        return self.since + self.settings.max_duration_s * self.scale

    @property
    def done(self) -> bool:
        return (not self.members and self.status == MpcState.ENDED and not self._end_owed
                and self.recorder.done)

    def successor(self, uid: str) -> MpcRoom:
        """FreeSWITCH made its room anew (every member had left it): the MPC goes on there."""
        self.uid = uid
        return self

    def member(self, call_uuid: str) -> Member | None:
        return self.members.get(call_uuid)

    def by_member_id(self, member_id: int) -> Member | None:
        return next((m for m in self.members.values() if m.member_id == member_id), None)

    def is_creator(self, call_uuid: str) -> bool:
        return self.creator == call_uuid

    # -- what the control API reads (rooms/views.py snapshots) --------------------------------

    def view(self) -> MpcView:
        """The MPC now, as a snapshot."""
        creator = self.member_view(self.creator or "")
        rec = self.recorder
        files = {uuid: RecordingFile(f.recording_id, f.url) for uuid, f in rec.tracks.items()}
        file = RecordingFile(rec.file.recording_id, rec.file.url) if rec.file else None
        return MpcView(self.name, self.mpc_uuid, self.status, self.since, self.started_at,
                       self.ended_at, self.termination, self.settings.max_participants,
                       self.settings.max_duration_s, creator, rec.shown, file,
                       types.MappingProxyType(files), self.ctx.settings.mpc_rate_per_minute)

    def present(self) -> list[MemberView]:
        """Participants in the room now and not being let go, in join order."""
        return [self._view_of(m) for m in self.members.values()
                if m.in_room and m.member_id is not None and m.reason is None]

    def member_view(self, call_uuid: str) -> MemberView | None:
        """The seat of `call_uuid` (in the room or not yet), None when it has none here."""
        member = self.members.get(call_uuid)
        return self._view_of(member) if member is not None else None

    def _view_of(self, member: Member) -> MemberView:
        return MemberView.of(member, self.coaching.get(member.call_uuid, False))

    # -- callers ------------------------------------------------------------------------------

    def join(self, seat: Seat, now: float) -> tuple[Member, list[Decision]]:
        """Seat a participant. Beyond maxParticipants its member has reason ROOM_FULL (the
        verb does not join FreeSWITCH's room and leaves at once)."""
        decisions: list[Decision] = []
        if not self._initialized:
            self._initialized, self.creator = True, seat.call_uuid
            decisions.extend(self._status("MPCInitialized", now, call_uuid=seat.call_uuid))
            decisions.append(ArmTimer(self.deadline))
        elif seat.settings != self.settings:
            log.info("MPC %s (%s): participant %s asks for other MPC attributes than the first "
                     "(%s); the first participant's are kept", self.name, self.mpc_uuid,
                     seat.call_uuid, self.settings.differences(seat.settings),
                     extra=self._extra(seat.call_uuid))
        member = Member(seat, muted=seat.muted, held=seat.held)
        if len(self._counted()) >= self.settings.max_participants:
            member.reason = ExitReason.ROOM_FULL
            log.info("MPC %s (%s): participant %s not joined: the MPC has its maxParticipants "
                     "(%d)", self.name, self.mpc_uuid, seat.call_uuid,
                     self.settings.max_participants, extra=self._extra(seat.call_uuid))
        elif self.status == MpcState.ENDED:
            member.reason = ExitReason.ENDED
        self.members[seat.call_uuid] = member
        if seat.participant is not None and seat.role in mpc_model.COACHES:
            self.coaching[seat.call_uuid] = bool(seat.participant.coach_mode)
        return member, decisions

    def entry_flags(self, call_uuid: str) -> tuple[str, ...]:
        """The member flags its `conference` app joins with (what FreeSWITCH does before the
        room's first command reaches it): never the profile's lone-member music; muted and
        deaf unless the MPC is Active and it is not held; dist-dtmf with relayDTMFInputs."""
        member = self.members[call_uuid]
        hears = self.status == MpcState.ACTIVE and not member.held
        speaks = hears and not member.muted
        self.media[call_uuid] = Media(speaks=speaks, hears=hears)
        flags = ["nomoh"]
        if not speaks:
            flags.append("mute")
        if not hears:
            flags.append("deaf")
        participant = member.seat.participant
        if participant is not None and participant.relay_dtmf:
            flags.append("dist-dtmf")
        return tuple(flags)

    def leave(self, call_uuid: str, now: float, *, hung_up: bool) -> tuple[Exit, list[Decision]]:
        member = self.members.pop(call_uuid)
        self.media.pop(call_uuid, None)
        self.coaching.pop(call_uuid, None)
        if hung_up:
            reason = ExitReason.HANGUP
        elif member.reason is not None:
            reason = member.reason
        elif member.member_id is None:
            reason = ExitReason.ROOM_FULL  # FreeSWITCH's own limit refused it
        else:
            reason = ExitReason.KICKED  # it left the room without the MPC letting it go
        cause = EXIT_CAUSES[reason]
        decisions: list[Decision] = []
        if member.member_id is not None:
            decisions.extend(self._status("ParticipantExit", now, member,
                                          {"ParticipantExitCause": cause}))
            participant = member.seat.participant
            if self.status != MpcState.ENDED:
                if participant is not None and participant.end_mpc_on_exit:
                    log.info("MPC %s (%s): member %s left with endMpcOnExit", self.name,
                             self.mpc_uuid, member.member_id, extra=self._extra(call_uuid))
                    decisions.extend(self.end(Termination.NO_ACTIVE_PARTICIPANTS, now))
                else:
                    decisions.extend(self._alone(now))
            # after the end decision: a recording the MPC's end stops is not paused first
            decisions.extend(self.recorder.left(self, member, now))
        elif self.status != MpcState.ENDED and not self._counted():
            # it never got in: it leaves nobody alone, but may leave the MPC empty
            decisions.extend(self.end(Termination.NO_ACTIVE_PARTICIPANTS, now))
        decisions.extend(self._end_if_due(now))
        params = cb.exit_params(self.mpc_uuid, self.name, member, now, cause)
        return Exit(self.name, self.mpc_uuid, member.member_id, reason, params), decisions

    def _counted(self) -> list[Member]:
        """Participants that count: seated and not being let go."""
        return [m for m in self.members.values() if m.reason is None]

    def _alone(self, now: float) -> list[Decision]:
        present = self._counted()
        if not present:
            return self.end(Termination.NO_ACTIVE_PARTICIPANTS, now)
        if len(present) == 1:
            last = present[0]
            if not (last.seat.participant and last.seat.participant.stay_alone):
                log.info("MPC %s (%s): participant %s is left alone without stayAlone",
                         self.name, self.mpc_uuid, last.call_uuid, extra=self._extra(last.call_uuid))
                return self.end(Termination.STAY_ALONE_NOT_PERMITTED, now)
        return []

    # -- the MPC as a whole -------------------------------------------------------------------

    def activate(self, now: float) -> list[Decision]:
        """Initialized -> Active: MPCStart; every member hears the room (the control API
        calls this too)."""
        if self.status != MpcState.INITIALIZED:
            return []
        self.status, self.started_at = MpcState.ACTIVE, now
        log.info("MPC %s (%s) starts", self.name, self.mpc_uuid,
                 extra=self._extra(self.creator or ""))
        decisions = self._status("MPCStart", now, call_uuid=self.creator or "")
        decisions.extend(self.recorder.started(self, now))
        for member in list(self.members.values()):
            decisions.extend(self._reconcile(member))
        return decisions

    def end(self, why: Termination, now: float) -> list[Decision]:
        """End the MPC: members still in are let go; MPCEnd once they left."""
        if self.status == MpcState.ENDED:
            return []
        self.status, self.state = MpcState.ENDED, RoomState.ENDED
        self.ended_at, self.termination, self._end_owed = now, why, True
        log.info("MPC %s (%s) ends: %s (%d)", self.name, self.mpc_uuid, why.cause, why.code,
                 extra=self._extra(self.creator or ""))
        decisions = self.recorder.ended(self, now)
        for member in list(self.members.values()):
            decisions.extend(self._release(member, ExitReason.ENDED))
        decisions.append(ArmTimer(now + self._backstop_s))
        return decisions

    @property
    def _backstop_s(self) -> float:
        return END_BACKSTOP * self.ctx.settings.command_timeout_s

    def hangup(self, now: float) -> list[Decision]:
        """The control API's end (3000)."""
        return self.end(Termination.HANGUP_API_TRIGGERED, now)

    def _end_if_due(self, now: float, *, overdue: bool = False) -> list[Decision]:
        if not self._end_owed or (self.members and not overdue):
            return []
        self._end_owed = False
        assert self.termination is not None and self.ended_at is not None
        duration = max(0, round(self.ended_at - self.since))
        billed, amount = cb.billing(duration, self.ctx.settings.mpc_rate_per_minute)
        return self._status("MPCEnd", now, call_uuid=self.creator or "", extra={
            "MPCTerminationCause": self.termination.cause,
            "MPCTerminationCauseCode": str(self.termination.code),
            "MPCDuration": str(duration), "MPCBilledDuration": str(billed),
            "MPCBilledAmount": amount,
        })

    # -- participants (XML at join; the control API later) -------------------------------------

    def mute(self, member_id: int, on: bool, now: float) -> list[Decision]:
        return self._set(member_id, "muted", on, ("ParticipantMute", "ParticipantUnmute"), now)

    def hold(self, member_id: int, on: bool, now: float) -> list[Decision]:
        return self._set(member_id, "held", on, ("ParticipantHold", "ParticipantUnhold"), now)

    def coach(self, member_id: int, on: bool, now: float) -> list[Decision]:
        """A supervisor's coach mode on (heard by Agents only) or off (heard by everyone)."""
        member = self.by_member_id(member_id)
        if member is None or member.role not in mpc_model.COACHES:
            return []
        if self.coaching.get(member.call_uuid) == on:
            return []
        self.coaching[member.call_uuid] = on
        event = "ParticipantCoachModeStart" if on else "ParticipantCoachModeStop"
        return [*self._status(event, now, member), *self._relations()]

    def kick(self, member_id: int, now: float,
             reason: ExitReason = ExitReason.KICKED) -> list[Decision]:
        member = self.by_member_id(member_id)
        return self._release(member, reason) if member is not None else []

    def command(self, subcommand: str, *args: str, call_uuid: str = "") -> list[Decision]:
        """`conference <room> <subcommand> <args>` as a decision (as `Room.command`)."""
        return self._send(commands.conference_api, subcommand, *args, call_uuid=call_uuid)

    def member_play(self, member_id: int, source: str, call_uuid: str) -> list[Decision]:
        """`source` played to one member (`{play_id=apiN}`: the room's music loop tells it
        apart; the member's music, if it has some, comes back after its done event)."""
        self._tokens += 1
        return self._send(member_commands.conference_member_play, source, member_id,
                          f"api{self._tokens}", call_uuid=call_uuid)

    def stop_member_play(self, member_id: int, call_uuid: str) -> list[Decision]:
        """`stop all <id>`: what the member is played stops."""
        return self._send(member_commands.conference_stop_member, member_id,
                          call_uuid=call_uuid)

    def dial_music(self, request: str, music: mpc_model.Music | None) -> list[Decision]:
        """Add participant `request` dials with `music` (its dial_music URL's parts): until
        `dial_music(request, None)` (its participant answered, or every leg failed) every
        member but held ones and ai-agents hears it, over the room once the MPC started, in
        place of the wait music before; the latest request's music when several dial."""
        if music:
            if self.status == MpcState.ENDED or request in self.dialling:
                return []
            self.dialling[request] = music
        elif self.dialling.pop(request, None) is None:
            return []
        decisions: list[Decision] = []
        for member in list(self.members.values()):
            decisions.extend(self._reconcile(member))
        return decisions

    def status_event(self, event: str, now: float, extra: dict[str, str] | None = None, *,
                     call_uuid: str = "") -> list[Decision]:
        """The MPC's status callback `event` about no member (the control API's add
        participant events), in the MPC's sequence, when its URL and groups ask for it."""
        return self._status(event, now, None, extra, call_uuid=call_uuid)

    def _set(self, member_id: int, attribute: str, on: bool, events: tuple[str, str],
             now: float) -> list[Decision]:
        member = self.by_member_id(member_id)
        if member is None or getattr(member, attribute) == on:
            return []
        setattr(member, attribute, on)
        return [*self._status(events[0] if on else events[1], now, member),
                *self._reconcile(member)]

    def _release(self, member: Member, reason: ExitReason) -> list[Decision]:
        if member.reason is not None and member.reason != ExitReason.ROOM_FULL:
            return []
        if member.reason is None:
            member.reason = reason
        decisions: list[Decision] = [Release(member.call_uuid, member.member_id, member.reason)]
        if member.member_id is not None and member.in_room:
            decisions.extend(self._send(commands.conference_api, "hup", str(member.member_id),
                                        call_uuid=member.call_uuid))
        return decisions

    # -- events -------------------------------------------------------------------------------

    def apply(self, event: Any, now: float) -> list[Decision]:
        if isinstance(event, CommandDone):
            if event.token not in self._sent:  # the recording component's
                return self.recorder.apply(self, event, now)
            return self._answered(event)
        if isinstance(event, Dtmf):
            member = self.members.get(event.unique_id)
            if member is None or not member.in_room:
                return []
            return self._status("ParticipantDigitInput", now, member,
                                {"DigitInput": event.digit})
        if not isinstance(event, ConferenceEvent):
            raise TypeError(f"MPC {self.name}: cannot apply {type(event).__name__}")
        if not self._first_sight(event):
            return []
        handler = mpc_events.TABLE.get(event.action)
        decisions = handler(self, event, now) if handler else []
        return [*decisions, *self.recorder.apply(self, event, now)]

    def tick(self, now: float) -> list[Decision]:
        decisions: list[Decision] = []
        if self.status == MpcState.ENDED:
            return self._end_if_due(now, overdue=self.ended_at is not None
                                    and now >= self.ended_at + self._backstop_s)
        if now >= self.deadline:
            log.info("MPC %s (%s) reached its maxDuration of %d s", self.name, self.mpc_uuid,
                     self.settings.max_duration_s, extra=self._extra(self.creator or ""))
            return self.end(Termination.MAX_DURATION_REACHED, now)
        for member in list(self.members.values()):
            media = self.media.get(member.call_uuid)
            if (media is not None and media.wait_deadline is not None
                    and now >= media.wait_deadline and self.status == MpcState.INITIALIZED):
                media.wait_deadline = None
                log.info("MPC %s (%s): member %s waited its waitTime for the start",
                         self.name, self.mpc_uuid, member.member_id,
                         extra=self._extra(member.call_uuid))
                decisions.extend(self._release(member, ExitReason.TIME_LIMIT))
        return [*decisions, ArmTimer(self.deadline)]

    def lost_connection(self, now: float) -> list[Decision]:
        return self.recorder.lost_connection(self, now)

    # -- what each member hears (rooms/mpc_media.py) ------------------------------------------

    def _reconcile(self, member: Member) -> list[Decision]:
        return mpc_media.reconcile(self, member)

    def _relations(self) -> list[Decision]:
        return [*mpc_media.relations(self), *mpc_ai.relations(self)]

    # -- helpers ------------------------------------------------------------------------------

    def _status(self, event: str, now: float, member: Member | None = None,
                extra: dict[str, str] | None = None, *, call_uuid: str = "") -> list[Decision]:
        """The status callback `event` when the MPC has a URL and the event's group is asked."""
        url = self.settings.status_callback_url
        if not url or event not in self.settings.status_events or event not in GROUP_OF:
            return []
        self.sequence["status"] += 1
        member_params = None
        if member is not None:
            coaching = self.coaching.get(member.call_uuid, False)
            member_params = cb.participant_params(member, coaching)
        hook = cb.status_webhook(
            url, self.settings.status_callback_method, event=event, now=now,
            mpc_uuid=self.mpc_uuid, mpc_name=self.name, sequence=self.sequence["status"],
            call_uuid=member.call_uuid if member is not None else call_uuid,
            member_params=member_params, extra=extra)
        return [Emit(hook)]

    def _send(self, build: Any, *args: Any, call_uuid: str = "") -> list[Decision]:
        """The Command `build(fs_name, *args)` makes; none (one ERROR naming the MPC and the
        member) when a value cannot be sent."""
        try:
            cmd = build(self.fs_name, *args)
        except UnsafeValue as exc:
            log.error("MPC %s (%s): member call %s: %s not sent: %s", self.name,
                      self.mpc_uuid, call_uuid, args[0] if args else build.__name__, exc,
                      extra=self._extra(call_uuid))
            return []
        return [self._issue(cmd, "mpc", call_uuid, room=f"MPC {self.name}")]

    def _answered(self, done: CommandDone) -> list[Decision]:
        return mpc_media.answered(self, done, self._sent.pop(done.token, ""))

    def _extra(self, call_uuid: str) -> dict[str, str]:
        return {"call_uuid": call_uuid, "conference": self.name}
