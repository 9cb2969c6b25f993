"""`<Conference>`: join a mod_conference room, report what happens there, leave, go on.

How a member joins (spec/plivo-conference.md, reference/freeswitch-verified.md):
- startConferenceOnEnter=true -> `moderator`; false -> `wait-mod` (waits for a true member).
- endConferenceOnExit=true -> `endconf`; muted=true -> `mute`; relayDTMF=true -> `dist-dtmf`.
- stayAlone=false -> `mintwo` (the room ends when one member is left); true (default) adds
  nothing, so a lone caller stays until timeLimit.
- Room settings (maxMembers, timeLimit, waitSound, record, recordFileFormat, recordWhenAlone)
  are the first caller's (the room engine, rooms/): maxMembers -> `conference_max_members`
  (FreeSWITCH refuses a limit of 1, so the room locks itself once its member entered),
  waitSound -> `conference_moh_sound` (both act on the room's creator, as FreeSWITCH reads
  them then).
- enterSound/exitSound `beep:1`/`beep:2` are one or two short tones; a URL (waitSound's too) is
  fetched with POST and the call parameters, as Plivo's reference says ("the URL is fetched with
  an HTTP POST request"), and gives a sound or a Play/Speak/Wait document (`verbs.sounds`),
  made a room sound by rooms/room_sounds.py: FreeSWITCH 1.10.12 has no `tts://`, so an enter
  or exit document of Speaks only is the room's `say:<text>` (a Speak among other sounds is
  dropped with one WARNING), and a waitSound with Speaks is played by the room to its waiting
  members as member plays (rooms/room_music.py) instead of `conference_moh_sound`. A sound
  URL that fails is logged and the member joins without that sound.
- `hangup_after_conference=false` always: the channel goes on to the next verb.
- The room's name is the user's (`My Conf Room`); FreeSWITCH is sent the room's id
  (`Room.fs_name`, rooms/names.py) and every callback and log line shows the user's name.

The executor claims a seat (`ctx.rooms.join`), runs the `conference` app and hands the call's
own events (DTMF, its conference events) to the room until the app completes; every room act
is the room's (rooms/room.py): the recording, the enter/floor/digits/exit callbacks, sendDigits,
hangupOnStar's `hup`, the lock at maxMembers=1, the kicks at timeLimit. A room full (or locked)
completes the application with no add-member. Then `ctx.rooms.leave` says why the member left.

When the member leaves: the exit callback (the room's: always, once, however the member
left), then the action URL: redirect=true fetches the next document from it, redirect=false posts to it and the
document goes on. Its parameters: ConferenceName, ConferenceUUID, ConferenceMemberID,
RecordUrl and RecordingID when the room is recorded, ConferenceExitReason (ours: `hangup`,
`kicked`, `hangup-on-star`, `time-limit`, `conference-ended`, `room-full`), and the call's
parameters. After a hangup the action URL is requested whatever redirect says (through the
durable outbox, with CallStatus=completed and ConferenceExitReason=hangup; a document it
returns is not run: there is no call left to run it), so the app always learns the member left.
Every conference callback carries the call's parameters too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from plivoxml_fs.documents.models import Conference
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import (
    ConnectionLost,
    EventOverflow,
    PlivoXMLError,
    ProtocolError,
    SoundError,
)
from plivoxml_fs.fs import arguments, commands
from plivoxml_fs.fs.events import ConferenceEvent, Dtmf, ExecuteComplete, View, view
from plivoxml_fs.rooms import names, room_music, room_sounds
from plivoxml_fs.rooms.model import Exit, RoomSettings, Seat
from plivoxml_fs.rooms.mpc_model import Speech
from plivoxml_fs.rooms.recordings import TRANSCRIBED_ENERGY_LEVEL
from plivoxml_fs.rooms.registry import RoomEngine
from plivoxml_fs.rooms.room import Room
from plivoxml_fs.verbs import sounds
from plivoxml_fs.verbs.base import (
    ACTION,
    NEXT,
    ExecContext,
    Gone,
    Goto,
    Outcome,
    call_account,
    hung_up,
)

#: beep:1 is one 400 Hz tone, beep:2 two (what the member hears on entry / exit).
BEEP_SOUNDS = {
    "beep:1": arguments.tone_stream((200, 0, 400)),
    "beep:2": arguments.tone_stream((200, 100, 400), (200, 0, 400)),
}
#: How sound URLs are fetched: the Conference element has no method for them, and Plivo's
#: reference says each "is fetched with an HTTP POST request" (with the call's parameters).
SOUND_METHOD = "POST"
#: The call parameters' CallStatus once the caller hung up (the action URL is told so).
CALL_OVER = {"CallStatus": "completed"}


@attrs.frozen
class JoinPlan:
    """The `conference` app argument and the channel variables to set before it."""

    app_arg: str
    variables: tuple[tuple[str, str], ...]


@attrs.frozen
class Sounds:
    """Playback sources resolved from the sound attributes (None: no sound)."""

    enter: str | None = None
    exit: str | None = None
    wait: str | None = None
    #: a waitSound with Speaks: played by the room (rooms/room_music.py), not as the moh
    spoken_wait: tuple[Any, ...] = ()


def member_flags(conf: Conference) -> tuple[str, ...]:
    """The member flags of `conf`, in a fixed order."""
    flags = ["moderator" if conf.start_conference_on_enter else "wait-mod"]
    if conf.muted:
        flags.append("mute")
    if conf.end_conference_on_exit:
        flags.append("endconf")
    if not conf.stay_alone:
        flags.append("mintwo")
    if conf.relay_dtmf:
        flags.append("dist-dtmf")
    return tuple(flags)


def join_plan(
    conf: Conference,
    profile: str = "default",
    *,
    room: RoomSettings | None = None,
    sounds_: Sounds | None = None,
    fs_name: str | None = None,
) -> JoinPlan:
    """What to send for `conf`: variables first (in order), then `conference <app_arg>`.

    `fs_name`: FreeSWITCH's name of the room (`Room.fs_name`; by default the one
    rooms/names.py maps `conf.name` to), never the user's name as written."""
    room = room or RoomSettings.of(conf)
    heard = sounds_ or Sounds(BEEP_SOUNDS.get(conf.enter_sound), BEEP_SOUNDS.get(conf.exit_sound))
    variables = [("hangup_after_conference", "false"),
                 ("conference_max_members", str(room.max_members))]
    for name, source in (("conference_enter_sound", heard.enter),
                         ("conference_exit_sound", heard.exit),
                         ("conference_moh_sound", heard.wait)):
        if source:
            variables.append((name, source))
    if room.record and room.transcription_url:
        # a transcribed room does not gate its members' audio: mod_conference's energy gate
        # drops the first 20-80 ms of every talk that starts softly, the first sound of the
        # utterance, which costs the transcript ~15 WER points (docs/transcription.md)
        variables.append(("conference_join_energy_level", str(TRANSCRIBED_ENERGY_LEVEL)))
    app_arg = commands.conference_app(fs_name or names.fs_room_name(conf.name), profile,
                                      member_flags(conf))
    return JoinPlan(app_arg, tuple(variables))


def run(conf: Conference, ctx: ExecContext) -> Outcome:
    return _Stay(conf, ctx).run()


def seat_of(conf: Conference, ctx: ExecContext) -> Seat:
    """The seat `conf` asks its room for: settings, member flags, callbacks, digits."""
    return Seat(
        name=conf.name, call_uuid=ctx.conn.uuid, settings=RoomSettings.of(conf),
        muted=conf.muted, callback_url=conf.callback_url, callback_method=conf.callback_method,
        call_params=ctx.params, floor_event=conf.floor_event, hangup_on_star=conf.hangup_on_star,
        digits_match=conf.digits_match,
        digits_match_timeout_s=ctx.settings.digits_match_timeout_s, send_digits=conf.send_digits,
        scope=call_account(ctx),
    )


class _Stay:
    """One call's stay in one room: a seat, the `conference` app, the room's release, the end."""

    def __init__(self, conf: Conference, ctx: ExecContext) -> None:
        self.conf, self.ctx = conf, ctx
        self.rooms: RoomEngine = ctx.rooms
        self.uuid = ctx.conn.uuid
        self.log = ctx.log
        self.extra = {"call_uuid": self.uuid, "conference": conf.name}

    def run(self) -> Outcome:
        room, _ = self.rooms.join(seat_of(self.conf, self.ctx), self.ctx.conn)
        ended: Outcome | None = Gone("the conference did not start")
        try:
            ended = self._stay(room, room.is_creator(self.uuid))
        finally:
            exit_ = self.rooms.leave(self.uuid, hung_up=ended is not None)
        if ended is not None:
            if self.conf.action:  # whatever redirect says: the app learns the member left
                self._post_action(exit_, CALL_OVER)
            return ended
        return self._after(exit_)

    # -- joining ----------------------------------------------------------------------------

    def _sounds(self, room: RoomSettings, creator: bool) -> Sounds:
        spoken_wait: list[Any] = []

        def resolve(value: str | None, what: str, variable: str) -> str | None:
            if not value:
                return None
            if value in BEEP_SOUNDS:
                return BEEP_SOUNDS[value]
            music = variable == "conference_moh_sound"
            try:
                parts = sounds.resolve_parts(
                    self.ctx.fetcher, value, SOUND_METHOD, self.ctx.params, what=what,
                    max_bytes=self.ctx.settings.max_document_bytes,
                )
                if music and any(isinstance(p, Speech) for p in parts):
                    spoken_wait.extend(sounds.grouped(parts))  # the room speaks it
                    return None
                heard = (room_sounds.music_sound if music else room_sounds.spoken_sound)(parts)
                if heard.source:
                    commands.conference_variable(variable, heard.source)  # sendable?
            except (PlivoXMLError, ValueError) as exc:
                cause = exc if isinstance(exc, SoundError) else f"{what} {shown_url(value)}: {exc}"
                self.log.warning("call %s: %s; joining without it", self.uuid, cause,
                                 extra=self.extra)
                return None
            if heard.dropped_speaks:
                self.log.warning("call %s: %s %s: a Speak among other sounds cannot be said "
                                 "by FreeSWITCH; its other sounds play without it", self.uuid,
                                 what, shown_url(value), extra=self.extra)
            return heard.source

        heard = Sounds(
            resolve(self.conf.enter_sound, "<Conference> enterSound", "conference_enter_sound"),
            resolve(self.conf.exit_sound, "<Conference> exitSound", "conference_exit_sound"),
            # mod_conference takes the music from the room's creator only
            resolve(room.wait_sound if creator else None, "<Conference> waitSound",
                    "conference_moh_sound"),
        )
        return attrs.evolve(heard, spoken_wait=tuple(spoken_wait))

    def _stay(self, room: Room, creator: bool) -> Outcome | None:
        """Join, follow the call until it leaves the room; an Outcome only if the call ended."""
        heard = self._sounds(room.settings, creator)
        plan = join_plan(self.conf, self.ctx.settings.conference_profile, room=room.settings,
                         sounds_=heard, fs_name=room.fs_name)
        if heard.spoken_wait:
            music = heard.spoken_wait
            self.rooms.decide(room, lambda now: room_music.set_music(room, music))
        conn = self.ctx.conn
        try:
            with conn.subscribe() as sub:
                # the variables and the join in one write (fs/commands.conference_variables)
                *_, execution = conn.execute_many(
                    [*commands.conference_variables(plan.variables), ("conference", plan.app_arg)])
                return self._follow(sub, execution.app_uuid)
        except ConnectionLost as exc:
            return Gone(str(exc))

    # -- in the room ------------------------------------------------------------------------

    def _follow(self, sub: Any, app_uuid: str) -> Outcome | None:
        """Hand the call's own events to the room until the `conference` app completes."""
        slice_s = self.ctx.settings.command_timeout_s
        hung_since: float | None = None
        while True:
            try:
                event = sub.get(slice_s)
            except EventOverflow as exc:
                self.log.error("call %s: %s", self.uuid, exc, extra=self.extra)
                return Gone(str(exc))
            if event is None:
                if hung_up(self.ctx):
                    now = self.ctx.clock()
                    if hung_since is not None and now - hung_since > slice_s:
                        return Gone("the conference did not complete after the hangup")
                    hung_since = hung_since or now
                continue
            typed = _typed(event)
            if isinstance(typed, ExecuteComplete) and typed.app_uuid == app_uuid:
                # the room let the member go (kick, hup, the room ended) or it never entered
                return Gone("the caller hung up in the conference") if hung_up(self.ctx) else None
            if isinstance(typed, Dtmf) and typed.unique_id == self.uuid or isinstance(
                    typed, ConferenceEvent) and (typed.unique_id == self.uuid
                                                 or typed.action == "floor-change"):
                self.rooms.own_event(self.uuid, typed)

    # -- what comes next --------------------------------------------------------------------

    def _after(self, exit_: Exit) -> Outcome:
        """The member left and the call is up: the action URL, or the next verb."""
        if not self.conf.action:
            return NEXT
        if self.conf.redirect:
            return Goto(self.conf.action, self.conf.method, _action_params(exit_), kind=ACTION)
        self._post_action(exit_, {})
        return NEXT

    def _post_action(self, exit_: Exit, status: Mapping[str, str]) -> None:
        """Request the action URL through the durable outbox; what it answers is not run."""
        assert self.conf.action
        params = {**self.ctx.params, **status, **_action_params(exit_)}
        hook = Webhook(self.conf.action, self.conf.method, params, self.uuid, "conference-action")
        try:
            self.ctx.outbox.emit(hook)
        except (ValueError, PlivoXMLError) as exc:
            self.log.error("call %s: %s callback to %s not sent: %s", self.uuid, hook.kind,
                           shown_url(hook.url), exc, extra=self.extra)


def _action_params(exit_: Exit) -> dict[str, str]:
    return {**exit_.params, "ConferenceExitReason": exit_.reason.value}


def _typed(event: Any) -> View | None:
    """The typed view of one of the call's events; None for others and malformed ones."""
    try:
        return view(event)
    except ProtocolError:
        return None
