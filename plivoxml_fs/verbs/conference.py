"""`<Conference>`: join a mod_conference room, report what happens there, leave, go on.

How a member joins (spec/plivo-conference.md, reference/freeswitch-verified.md):
- startConferenceOnEnter=true -> `moderator`; false -> `wait-mod` (waits for a true member).
- endConferenceOnExit=true -> `endconf`; muted=true -> `mute`; relayDTMF=true -> `dist-dtmf`.
- stayAlone=false -> `mintwo` (the room ends when one member is left); true (default) adds
  nothing, so a lone caller stays until timeLimit.
- Room settings (maxMembers, timeLimit, waitSound, record, recordFileFormat) are the first
  caller's (`rooms.conferences`): maxMembers -> `conference_max_members` (FreeSWITCH refuses a
  limit of 1, so maxMembers=1 locks the room once its member entered), waitSound ->
  `conference_moh_sound` (both act on the room's creator, as FreeSWITCH reads them then).
- enterSound/exitSound `beep:1`/`beep:2` are one or two short tones; a URL (waitSound's too) is
  fetched with POST and the call parameters, as Plivo's reference says ("the URL is fetched with
  an HTTP POST request"), and gives a sound or a Play/Speak/Wait document (`verbs.sounds`). A
  sound URL that fails is logged and the member joins without that sound.
- `hangup_after_conference=false` always: the channel goes on to the next verb.

While the member is in the room the executor reads the call's own events (outbound socket):
add-member (the room's recording starts when record="true" and it has none, unless
recordWhenAlone="false" and the member is alone (Conference-Size 1): then the member whose entry
makes two starts it; the enter callback; sendDigits goes to the member's own phone as
`conference <room> dtmf <id> <digits>`),
floor-change to this member (floorEvent), DTMF (digitsMatch patterns, hangupOnStar kicks the
member on `*`), kick/hup of this member, and the `conference` application's completion. A room
full (or locked) completes the application with no add-member. At timeLimit (counted from the
room's first claim) each member is kicked, so the room ends.

When the member leaves: the exit callback (always, once, however the member left), then the
action URL: redirect=true fetches the next document from it, redirect=false posts to it and the
document goes on. Its parameters: ConferenceName, ConferenceUUID, ConferenceMemberID,
RecordUrl and RecordingID when the room is recorded, ConferenceExitReason (ours: `hangup`,
`kicked`, `hangup-on-star`, `time-limit`, `conference-ended`, `room-full`), and the call's
parameters. After a hangup the action URL is requested whatever redirect says (through the
durable outbox, with CallStatus=completed and ConferenceExitReason=hangup; a document it
returns is not run: there is no call left to run it), so the app always learns the member left.
Every conference callback carries the call's parameters too.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

import attrs

from plivoxml_fs.documents.models import Conference
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import ConnectionLost, EventOverflow, PlivoXMLError, UnsafeValue
from plivoxml_fs.fs import commands
from plivoxml_fs.fs.events import CONFERENCE_SUBCLASS
from plivoxml_fs.rooms import recordings
from plivoxml_fs.rooms.conferences import Claim, Conferences, Recording, RoomSettings
from plivoxml_fs.verbs import sounds
from plivoxml_fs.verbs.base import ACTION, NEXT, ExecContext, Gone, Goto, Outcome, hung_up

#: beep:1 is one 400 Hz tone, beep:2 two (what the member hears on entry / exit).
BEEP_SOUNDS = {
    "beep:1": commands.tone_stream((200, 0, 400)),
    "beep:2": commands.tone_stream((200, 100, 400), (200, 0, 400)),
}
#: How sound URLs are fetched: the Conference element has no method for them, and Plivo's
#: reference says each "is fetched with an HTTP POST request" (with the call's parameters).
SOUND_METHOD = "POST"
#: The call parameters' CallStatus once the caller hung up (the action URL is told so).
CALL_OVER = {"CallStatus": "completed"}
#: Why a member left, as ConferenceExitReason says it.
HANGUP, KICKED, STAR, TIME_LIMIT, ENDED, FULL = (
    "hangup", "kicked", "hangup-on-star", "time-limit", "conference-ended", "room-full"
)


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
) -> JoinPlan:
    """What to send for `conf`: variables first (in order), then `conference <app_arg>`."""
    room = room or RoomSettings.of(conf)
    heard = sounds_ or Sounds(BEEP_SOUNDS.get(conf.enter_sound), BEEP_SOUNDS.get(conf.exit_sound))
    variables = [("hangup_after_conference", "false"),
                 ("conference_max_members", str(room.max_members))]
    for name, source in (("conference_enter_sound", heard.enter),
                         ("conference_exit_sound", heard.exit),
                         ("conference_moh_sound", heard.wait)):
        if source:
            variables.append((name, source))
    app_arg = commands.conference_app(conf.name, profile, member_flags(conf))
    return JoinPlan(app_arg, tuple(variables))


@attrs.define
class DigitsMatcher:
    """Matches the digits a member presses against digitsMatch patterns.

    Digits gather until one of the patterns ends the sequence (then it starts again) or no
    digit came for `timeout_s`.
    """

    patterns: tuple[str, ...]
    timeout_s: float
    typed: str = ""
    last_s: float = 0.0

    def press(self, digit: str, now_s: float) -> str | None:
        """Add `digit`; the pattern it completes, if any."""
        if self.typed and now_s - self.last_s > self.timeout_s:
            self.typed = ""
        self.typed, self.last_s = self.typed + digit, now_s
        longest = max(map(len, self.patterns), default=0)
        self.typed = self.typed[-longest:] if longest else ""
        for pattern in self.patterns:
            if self.typed.endswith(pattern):
                self.typed = ""
                return pattern
        return None


def run(conf: Conference, ctx: ExecContext) -> Outcome:
    return _Member(conf, ctx).run()


class _Member:
    """One call's stay in one room."""

    def __init__(self, conf: Conference, ctx: ExecContext) -> None:
        self.conf, self.ctx = conf, ctx
        self.book: Conferences = ctx.conferences
        self.uuid = ctx.conn.uuid
        self.log = ctx.log
        self.member_id: int | None = None
        self.room_uuid = ""
        self.reason: str | None = None
        self.recording: Recording | None = None
        self.claim: Claim | None = None
        self.matcher = DigitsMatcher(conf.digits_match, ctx.settings.digits_match_timeout_s)
        self.extra = {"call_uuid": self.uuid, "conference": conf.name}

    def run(self) -> Outcome:
        self.claim = self.book.claim(self.conf.name, self.uuid, RoomSettings.of(self.conf),
                                     time.time())
        try:
            ended = self._stay()
        finally:
            self.book.release(self.conf.name, self.uuid)
        if self.member_id is not None:
            self._callback("exit", {})
        if ended is not None:
            self.reason = HANGUP
            if self.conf.action:  # whatever redirect says: the app learns the member left
                self._post_action(CALL_OVER)
            return ended
        return self._after()

    # -- joining ----------------------------------------------------------------------------

    def _sounds(self, room: RoomSettings) -> Sounds:
        def resolve(value: str | None, what: str) -> str | None:
            if not value:
                return None
            if value in BEEP_SOUNDS:
                return BEEP_SOUNDS[value]
            try:
                return sounds.resolve_sound(
                    self.ctx.fetcher, value, SOUND_METHOD, self.ctx.params, what=what,
                    max_bytes=self.ctx.settings.max_document_bytes,
                )
            except PlivoXMLError as exc:
                self.log.warning("call %s: %s; joining without it", self.uuid, exc,
                                 extra=self.extra)
                return None

        return Sounds(
            resolve(self.conf.enter_sound, "<Conference> enterSound"),
            resolve(self.conf.exit_sound, "<Conference> exitSound"),
            # mod_conference takes the music from the room's creator only
            resolve(room.wait_sound if self._creator() else None, "<Conference> waitSound"),
        )

    def _creator(self) -> bool:
        return self.claim is not None and self.claim.first_call == self.uuid

    def _stay(self) -> Outcome | None:
        """Join, follow the room until this member leaves; an Outcome only if the call ended."""
        assert self.claim is not None
        room = self.claim.settings
        plan = join_plan(self.conf, self.ctx.settings.conference_profile, room=room,
                         sounds_=self._sounds(room))
        conn = self.ctx.conn
        try:
            with conn.subscribe() as sub:
                for name, value in plan.variables:
                    conn.execute_async("set", commands.conference_variable(name, value))
                execution = conn.execute_async("conference", plan.app_arg)
                return self._follow(sub, execution.app_uuid)
        except ConnectionLost as exc:
            return Gone(str(exc))

    # -- in the room ------------------------------------------------------------------------

    def _follow(self, sub: Any, app_uuid: str) -> Outcome | None:
        slice_s = self.ctx.settings.command_timeout_s
        hung_since: float | None = None
        while True:
            try:
                event = sub.get(self._wait_s(slice_s))
            except EventOverflow as exc:
                self.log.error("call %s: %s", self.uuid, exc, extra=self.extra)
                return Gone(str(exc))
            if event is None:
                if hung_up(self.ctx):
                    if hung_since is not None and time.monotonic() - hung_since > slice_s:
                        return Gone("the conference did not complete after the hangup")
                    hung_since = hung_since or time.monotonic()
                self._check_time_limit()
                continue
            if event.name == "CHANNEL_EXECUTE_COMPLETE" and event.get("Application-UUID") == app_uuid:
                if hung_up(self.ctx):
                    return Gone("the caller hung up in the conference")
                if self.member_id is None:
                    self.reason = FULL
                    self.log.info("call %s: conference %s is full; the member did not enter",
                                  self.uuid, self.conf.name, extra=self.extra)
                # no kick of ours or the API's: the room ended around the member
                self.reason = self.reason or ENDED
                return None
            self._on_event(event)
            self._check_time_limit()

    def _wait_s(self, slice_s: float) -> float:
        if self.member_id is None or self.claim is None or self.reason is not None:
            return slice_s
        return max(0.0, min(slice_s, self.claim.deadline_s() - time.time()))

    def _on_event(self, event: Any) -> None:
        if event.name == "DTMF" and event.get("Unique-ID", self.uuid) == self.uuid:
            self._on_digit(event.get("DTMF-Digit") or "")
        elif event.name == "CUSTOM" and event.subclass == CONFERENCE_SUBCLASS and (
            event.get("Unique-ID") == self.uuid or event.get("Action") == "floor-change"
        ):
            self._on_conference(event)

    def _on_conference(self, event: Any) -> None:
        action = event.get("Action")
        member = event.get("Member-ID") or ""
        if action == "add-member" and self.member_id is None and member.isdigit():
            self.member_id, self.room_uuid = int(member), event.get("Conference-Unique-ID") or ""
            if self.claim is not None and self.claim.settings.max_members == 1:
                self._api_room("lock")  # FreeSWITCH takes no limit of 1: lock the room instead
            self._start_recording(event.get("Conference-Size") or "")
            self._callback("enter", {})
            if self.conf.send_digits:
                self._api_member("dtmf", self.conf.send_digits)
        elif action == "floor-change" and self.member_id is not None:
            if event.get("New-ID") == str(self.member_id) and self.conf.floor_event:
                self._callback("floor", {})
        elif action in ("kick-member", "hup-member") and member == str(self.member_id):
            self.reason = self.reason or KICKED

    def _on_digit(self, digit: str) -> None:
        if not digit or self.member_id is None:
            return
        if digit == "*" and self.conf.hangup_on_star and self.reason is None:
            self.reason = STAR
            self._api_member("hup")
        matched = self.matcher.press(digit, time.monotonic()) if self.conf.digits_match else None
        if matched is not None:
            self._callback("digits", {"ConferenceDigitsMatch": matched})

    def _check_time_limit(self) -> None:
        if (self.member_id is None or self.claim is None or self.reason is not None
                or time.time() < self.claim.deadline_s()):
            return
        self.reason = TIME_LIMIT
        self.log.info("call %s: conference %s reached its time limit of %d s", self.uuid,
                      self.conf.name, self.claim.settings.time_limit_s, extra=self.extra)
        self._api_member("kick")

    def _api_member(self, subcommand: str, *args: str) -> None:
        self._api_room(subcommand, str(self.member_id), *args)

    def _api_room(self, subcommand: str, *args: str) -> None:
        cmd = commands.conference_api(self.conf.name, subcommand, *args)
        try:
            reply = self.ctx.conn.api(cmd, check=False)
        except PlivoXMLError as exc:
            self.log.warning("call %s: %s: %s", self.uuid, cmd, exc, extra=self.extra)
            return
        if not reply.startswith("+OK"):
            self.log.warning("call %s: %s: %s", self.uuid, cmd, reply.strip(), extra=self.extra)

    # -- recording --------------------------------------------------------------------------

    def _start_recording(self, size: str) -> None:
        """Start the room's recording, if it should have one now (`size`: members in it)."""
        assert self.claim is not None and self.member_id is not None
        room = self.claim.settings
        if not room.record or self.book.recording_of(self.room_uuid) is not None:
            return
        if not room.record_when_alone and not (size.isdigit() and int(size) >= 2):
            return  # recordWhenAlone="false": the member whose entry makes two starts it
        settings = self.ctx.settings
        recording_id = str(uuidlib.uuid4())
        try:
            name = recordings.recording_name(self.room_uuid, recording_id,
                                             room.record_file_format)
            url = recordings.record_url(settings, name)
        except ValueError as exc:
            self.log.error("call %s: conference %s: the recording could not start: %s",
                           self.uuid, self.conf.name, exc, extra=self.extra)
            return
        path = str(recordings.recordings_dir(settings) / name)
        rec = Recording(
            conference_name=self.conf.name, conference_uuid=self.room_uuid, path=path,
            recording_id=recording_id, record_url=url,
            started_ms=time.time_ns() // 1_000_000, member_id=self.member_id, call_uuid=self.uuid,
            callback_url=self.conf.callback_url, callback_method=self.conf.callback_method,
            call_params=self.ctx.params,
        )
        if not self.book.reserve_recording(rec):
            return
        try:
            recordings.recordings_dir(settings).mkdir(parents=True, exist_ok=True)
            cmd = commands.conference_api(self.conf.name, "recording", "start", path)
            reply = self.ctx.conn.api(cmd, check=False)
        except (OSError, UnsafeValue, PlivoXMLError) as exc:
            reply = f"-ERR {exc}"
        if not reply.startswith("+OK"):
            self.book.recording_failed(rec)
            self.log.error("call %s: conference %s: the recording could not start: %s",
                           self.uuid, self.conf.name, reply.strip(), extra=self.extra)
            return
        self.recording = rec
        self.log.info("call %s: recording conference %s as %s", self.uuid, self.conf.name,
                      recording_id, extra=self.extra)

    # -- callbacks and what comes next ------------------------------------------------------

    def _conference_params(self) -> dict[str, str]:
        params = {
            "ConferenceName": self.conf.name,
            "ConferenceUUID": self.room_uuid,
            "ConferenceMemberID": "" if self.member_id is None else str(self.member_id),
        }
        rec = self.book.recording_of(self.room_uuid) if self.room_uuid else None
        # kept once seen: the inbound connection may read the room's end (and the book forget
        # its recording) before this member's own socket says it left
        self.recording = rec = rec or self.recording
        if rec is not None:
            params.update(RecordUrl=rec.record_url, RecordingID=rec.recording_id)
        return params

    def _callback(self, action: str, extra: Mapping[str, str]) -> None:
        if not self.conf.callback_url:
            return
        params = {**self.ctx.params, "ConferenceAction": action, **self._conference_params(),
                  "CallUUID": self.uuid, **extra}
        self._emit(Webhook(self.conf.callback_url, self.conf.callback_method, params, self.uuid,
                           f"conference-{action}"))

    def _emit(self, hook: Webhook) -> None:
        try:
            self.ctx.outbox.emit(hook)
        except (ValueError, PlivoXMLError) as exc:
            self.log.error("call %s: %s callback to %s not sent: %s", self.uuid, hook.kind,
                           shown_url(hook.url), exc, extra=self.extra)

    def _after(self) -> Outcome:
        """The member left and the call is up: the action URL, or the next verb."""
        if not self.conf.action:
            return NEXT
        if self.conf.redirect:
            return Goto(self.conf.action, self.conf.method, self._action_params(), kind=ACTION)
        self._post_action({})
        return NEXT

    def _action_params(self) -> dict[str, str]:
        return {**self._conference_params(), "ConferenceExitReason": self.reason or ENDED}

    def _post_action(self, status: Mapping[str, str]) -> None:
        """Request the action URL through the durable outbox; what it answers is not run."""
        params = {**self.ctx.params, **status, **self._action_params()}
        self._emit(Webhook(self.conf.action, self.conf.method, params, self.uuid,
                           "conference-action"))
