"""`<MultiPartyCall>`: join an MPC (rooms/mpc.py decides everything in it), leave, go on.

The executor (docs/multipartycall.md):
1. resolves the music URLs (waitMusicUrl, agentHoldMusicUrl, customerHoldMusicUrl: documents
   of Play/Speak/Wait fetched with their methods; a failure or another element is one WARNING
   and silence) and the enterSound/exitSound URLs, before it claims its seat: the room stays
   pure, and the first participant's MPC-level values rule;
2. claims its seat (`ctx.rooms.join`); beyond maxParticipants the room refuses it and the call
   goes on at once (onExitActionUrl with ParticipantExitCause=Max Participants Reached, or its
   next verb);
3. sets hangup_after_conference=false, conference_max_members (FreeSWITCH's own backstop),
   the enter/exit sounds, then runs `conference mpc-<MPCUUID>@<profile>+flags{...}` with the
   flags the room gives (`entry_flags`), and hands the call's own events to the room until the
   app completes;
4. leaves (`ctx.rooms.leave`): onExitActionUrl (default POST) with the exit parameters, or the
   next verb. A participant the MPC's end let go whose document has nothing after it ends with
   Plivo's 4020 "Multiparty Call Ended", one kicked out (the control API) 4030 "Kicked Out Of
   Multiparty Call" (any other end of its document: 4010).
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.call import causes
from plivoxml_fs.documents.models import AI_AGENT, MultiPartyCall
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import (
    CommandFailed,
    ConnectionLost,
    EventOverflow,
    PlivoXMLError,
    ProtocolError,
)
from plivoxml_fs.fs import commands
from plivoxml_fs.fs.events import ConferenceEvent, Dtmf, ExecuteComplete, View, view
from plivoxml_fs.rooms import mpc_recording, room_sounds
from plivoxml_fs.rooms.model import Exit, ExitReason, RoomKind, Seat
from plivoxml_fs.rooms.mpc_model import MpcSettings, Music, Participant, role_of
from plivoxml_fs.verbs import sounds
from plivoxml_fs.verbs.base import (
    ACTION,
    ExecContext,
    Gone,
    Goto,
    HangupCall,
    Next,
    Outcome,
    call_account,
    hung_up,
)
from plivoxml_fs.verbs.conference import BEEP_SOUNDS  # beep:1, beep:2 as <Conference>'s

#: A call the MPC's end let go, with nothing after: Plivo's 4020 Multiparty Call Ended.
MPC_ENDED = causes.Row(4020, causes.PLIVO, "D")
#: A call the control API kicked, with nothing after: 4030 Kicked Out Of Multiparty Call.
MPC_KICKED = causes.Row(4030, causes.PLIVO, "D")
#: The Q.850 cause a stuck member's call is hung up with (HangupCauseCode is Plivo's row).
HANGUP_CAUSE = "NORMAL_CLEARING"
#: The channel variable of an AI participant's room leg (effects/aiagent.LEG_VARIABLE).
AI_LEG_VARIABLE = "plivoxml_ai_leg"
#: The call parameters' CallStatus once the caller hung up.
CALL_OVER = {"CallStatus": "completed"}


def run(mpc: MultiPartyCall, ctx: ExecContext) -> Outcome:
    if mpc.role == AI_AGENT and not ctx.conn.channel.variable(AI_LEG_VARIABLE):
        return _ai_host(mpc, ctx)
    return _Participant(mpc, ctx).run()


def _ai_host(mpc: MultiPartyCall, ctx: ExecContext) -> Outcome:
    """role="ai-agent": the call hosts an AI participant (effects/aiagent.py, docs/ai-agent.md)
    and goes on once it has left; the room leg itself comes back here as a participant."""
    from plivoxml_fs.effects import aiagent  # gevent: the verbs stay plain at import

    return Gone("the host of an AI participant hung up") if aiagent.run_host(mpc, ctx) \
        else Next()


class _Participant:
    """One call's stay in one MPC."""

    def __init__(self, mpc: MultiPartyCall, ctx: ExecContext) -> None:
        self.mpc, self.ctx = mpc, ctx
        self.uuid = ctx.conn.uuid
        self.log = ctx.log
        self.extra = {"call_uuid": self.uuid, "conference": mpc.name}

    # -- sounds -------------------------------------------------------------------------------

    def _music(self, url: str | None, method: str, what: str) -> Music | None:
        """Wait/hold music: its file sources (several joined in one file_string) and its
        Speaks (`Speech`: FreeSWITCH 1.10.12 has no `tts://` file format, docs)."""
        if not url:
            return None
        try:
            parts = sounds.resolve_parts(self.ctx.fetcher, url, method, self.ctx.params,
                                         what=f"<MultiPartyCall> {what}",
                                         max_bytes=self.ctx.settings.max_document_bytes,
                                         speech=sounds.speech_part)
            return _grouped(parts)
        except PlivoXMLError as exc:
            self.log.warning("call %s: MPC %s: %s; silence instead", self.uuid, self.mpc.name,
                             exc, extra=self.extra)
            return None

    def _sound(self, value: str, method: str, what: str) -> str | None:
        if value == "none" or not value:
            return None
        if value.lower() in BEEP_SOUNDS:
            return BEEP_SOUNDS[value.lower()]
        try:
            parts = sounds.resolve_parts(self.ctx.fetcher, value, method, self.ctx.params,
                                         what=f"<MultiPartyCall> {what}",
                                         max_bytes=self.ctx.settings.max_document_bytes,
                                         speech=sounds.speech_part)
            return self._room_sound(parts, what, value)
        except PlivoXMLError as exc:
            self.log.warning("call %s: MPC %s: %s; no %s", self.uuid, self.mpc.name, exc, what,
                             extra=self.extra)
            return None

    def _room_sound(self, parts: list[Any], what: str, url: str) -> str | None:
        """An enter/exit sound for `conference_<enter|exit>_sound` (rooms/room_sounds.py):
        Speaks alone as the room's `say:`; a Speak among other sounds: one WARNING, the
        other sounds play."""
        sound = room_sounds.spoken_sound(parts)
        if sound.dropped_speaks:
            self.log.warning("call %s: MPC %s: %s %s: a Speak among other sounds cannot be "
                             "said by FreeSWITCH; its other sounds play without it", self.uuid,
                             self.mpc.name, what, shown_url(url), extra=self.extra)
        return sound.source

    def seat(self) -> Seat:
        mpc = self.mpc
        settings = MpcSettings.of(
            mpc,
            wait_music=self._music(mpc.wait_music_url, mpc.wait_music_method, "waitMusicUrl"),
            agent_hold_music=self._music(mpc.agent_hold_music_url, mpc.agent_hold_music_method,
                                         "agentHoldMusicUrl"),
            customer_hold_music=self._music(mpc.customer_hold_music_url,
                                            mpc.customer_hold_music_method,
                                            "customerHoldMusicUrl"),
            start_recording_sound=self._music(mpc.start_recording_audio,
                                              mpc.start_recording_audio_method,
                                              "startRecordingAudio") if mpc.record else None,
            stop_recording_sound=self._music(mpc.stop_recording_audio,
                                             mpc.stop_recording_audio_method,
                                             "stopRecordingAudio") if mpc.record else None,
        )
        return Seat(name=mpc.name, call_uuid=self.uuid, settings=settings,
                    kind=RoomKind.MULTIPARTY_CALL, role=role_of(mpc.role), muted=mpc.mute,
                    held=mpc.hold, call_params=self.ctx.params, participant=Participant.of(mpc),
                    scope=call_account(self.ctx))

    # -- the stay -----------------------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            seat = self.seat()
        except ValueError as exc:  # a role this daemon does not run yet (ai-agent)
            self.log.error("call %s: MPC %s: %s; going on without it", self.uuid,
                           self.mpc.name, exc, extra=self.extra)
            return Next()
        rooms = self.ctx.rooms
        enter = self._sound(self.mpc.enter_sound, self.mpc.enter_sound_method, "enterSound")
        leave = self._sound(self.mpc.exit_sound, self.mpc.exit_sound_method, "exitSound")
        room, member = rooms.join(seat, self.ctx.conn)
        self.member = member
        ended: Outcome | None = None
        try:
            if member.reason is None:
                ended = self._stay(room, enter, leave)
        finally:
            exit_ = rooms.leave(self.uuid, hung_up=isinstance(ended, Gone))
        if ended is not None:
            if self.mpc.on_exit_action_url:
                self._post_exit(exit_)
            return ended
        return self._after(exit_)

    def _stay(self, room: Any, enter: str | None, leave: str | None) -> Outcome | None:
        conn = self.ctx.conn
        variables = [("hangup_after_conference", "false"),
                     ("conference_max_members", str(mpc_recording.room_capacity(room.settings)))]
        if enter:
            variables.append(("conference_enter_sound", enter))
        if leave:
            variables.append(("conference_exit_sound", leave))
        try:
            arg = commands.conference_app(room.fs_name, self.ctx.settings.conference_profile,
                                          room.entry_flags(self.uuid))
            with conn.subscribe() as sub:
                *_, execution = conn.execute_many(
                    [*commands.conference_variables(variables), ("conference", arg)])
                return self._follow(sub, execution.app_uuid)
        except ConnectionLost as exc:
            return Gone(str(exc))
        except CommandFailed as exc:  # the driver's line then names the MPC, not only mpc-<uuid>
            raise CommandFailed(f"MPC {self.mpc.name}: {exc.command}", exc.reply) from None

    def _follow(self, sub: Any, app_uuid: str) -> Outcome | None:
        """The call's events until its `conference` app completes. Bounded: after the caller
        hung up, or after the MPC let the member go (its `hup` sent), the app gets
        command_timeout_s more; a member it never releases is hung up (`_stuck`)."""
        slice_s = self.ctx.settings.command_timeout_s
        hung_since: float | None = None
        released_since: float | None = None
        while True:
            try:
                event = sub.get(slice_s)
            except EventOverflow as exc:
                self.log.error("call %s: MPC %s: %s", self.uuid, self.mpc.name, exc,
                               extra=self.extra)
                return Gone(str(exc))
            now = self.ctx.clock()  # checked on every event too: a busy channel is no excuse
            if hung_up(self.ctx):
                if hung_since is not None and now - hung_since > slice_s:
                    return Gone("the MPC did not complete after the hangup")
                hung_since = hung_since or now
            elif self.member.reason is not None:
                if released_since is not None and now - released_since > slice_s:
                    return self._stuck(now - released_since)
                released_since = released_since or now
            if event is None:
                continue
            typed = _typed(event)
            if isinstance(typed, ExecuteComplete) and typed.app_uuid == app_uuid:
                return Gone("the caller hung up in the MPC") if hung_up(self.ctx) else None
            if isinstance(typed, (Dtmf, ConferenceEvent)) and typed.unique_id == self.uuid:
                self.ctx.rooms.own_event(self.uuid, typed)

    def _stuck(self, waited_s: float) -> Outcome:
        """The MPC let the member go but FreeSWITCH's `conference` app never returned: the
        call cannot go on behind it, so it is hung up with the cause Plivo reports when the
        MPC's end lets a call go (4020 Multiparty Call Ended; a kicked or timed-out member:
        4010 End Of XML Instructions). onExitActionUrl is still requested, not run."""
        reason = self.member.reason
        self.log.error("call %s: MPC %s: member %s was let go (%s) but FreeSWITCH's conference "
                       "application did not return in %.1f s; hanging up", self.uuid,
                       self.mpc.name, self.member.member_id, reason.value if reason else "?",
                       waited_s, extra=self.extra)
        row = {ExitReason.ENDED: MPC_ENDED, ExitReason.KICKED: MPC_KICKED}.get(
            reason, causes.END_OF_XML) if reason is not None else causes.END_OF_XML
        return HangupCall(HANGUP_CAUSE, causes.PLIVO, row)

    # -- after --------------------------------------------------------------------------------

    def _after(self, exit_: Exit) -> Outcome:
        url = self.mpc.on_exit_action_url
        if url:
            return Goto(url, self.mpc.on_exit_action_method, dict(exit_.params), kind=ACTION)
        if exit_.reason == ExitReason.ENDED:
            return Next(end=MPC_ENDED)
        if exit_.reason == ExitReason.KICKED:
            return Next(end=MPC_KICKED)
        return Next()

    def _post_exit(self, exit_: Exit) -> None:
        """The call hung up: onExitActionUrl is still requested (the outbox), not run."""
        url = self.mpc.on_exit_action_url
        assert url
        params = {**self.ctx.params, **CALL_OVER, **exit_.params}
        hook = Webhook(url, self.mpc.on_exit_action_method, params, self.uuid, "mpc-exit-action")
        try:
            self.ctx.outbox.emit(hook)
        except (ValueError, PlivoXMLError) as exc:
            self.log.error("call %s: MPC %s: %s callback to %s not sent: %s", self.uuid,
                           self.mpc.name, hook.kind, shown_url(url), exc, extra=self.extra)


_grouped = sounds.grouped  # the MPC's music as <Conference>'s spoken wait music


def _typed(event: Any) -> View | None:
    try:
        return view(event)
    except ProtocolError:
        return None
