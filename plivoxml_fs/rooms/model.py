"""The room engine's values: states and reasons, seats and members, inputs and decisions.

Everything here is plain data (frozen attrs or enums). A room (rooms/room.py) takes a `Seat`
when a caller asks for one, events and `CommandDone` results as they come, and returns a list of
decisions (`Command`, `Emit`, `Release`, `ArmTimer`); the edge (effects/rooms.py) performs them.
The member model carries what `<MultiPartyCall>` needs too: a role, mute/deaf/hold, relations to
other members and the join time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from plivoxml_fs.config import Settings
from plivoxml_fs.effects.webhook import Webhook


class RoomKind(enum.Enum):
    """What a room is to the document that made it."""

    CONFERENCE = "conference"
    MULTIPARTY_CALL = "multipartycall"


class RoomState(enum.Enum):
    """Claimed by a caller (no FreeSWITCH room yet), open (FreeSWITCH made it), ended."""

    CLAIMED = "claimed"
    OPEN = "open"
    ENDED = "ended"


class ExitReason(enum.Enum):
    """Why a member left, as `<Conference>`'s ConferenceExitReason says it."""

    HANGUP = "hangup"
    KICKED = "kicked"
    HANGUP_ON_STAR = "hangup-on-star"
    TIME_LIMIT = "time-limit"
    ENDED = "conference-ended"
    ROOM_FULL = "room-full"
    #: moved into another room by the control API's add participant (call_uuid)
    TRANSFERRED = "transferred"


class Role(enum.Enum):
    """A member's role: every `<Conference>` member is a MEMBER; MPC participants have theirs."""

    MEMBER = "Member"
    CUSTOMER = "Customer"
    AGENT = "Agent"
    SUPERVISOR = "Supervisor"
    AI_AGENT = "ai-agent"  # an AI service's stream (docs/ai-agent.md)


class Relation(enum.Enum):
    """`conference <room> relate <a> <b> <mode>`: what member a no longer gets from member b."""

    NOHEAR = "nohear"
    NOSPEAK = "nospeak"
    CLEAR = "clear"


@attrs.frozen
class RoomSettings:
    """What a `<Conference>` room runs with, whoever joins later: the first claimant's."""

    max_members: int
    time_limit_s: int
    wait_sound: str | None
    record: bool
    record_file_format: str
    transcription_type: str | None = None
    transcription_url: str | None = None
    transcription_method: str = "POST"
    record_when_alone: bool = True  # false: the recording waits for a second member

    @classmethod
    def of(cls, conf: Any) -> RoomSettings:
        """The room settings a `<Conference>` model asks for."""
        return cls(
            max_members=conf.max_members,
            time_limit_s=conf.time_limit,
            wait_sound=conf.wait_sound,
            record=conf.record,
            record_file_format=conf.record_file_format,
            transcription_type=conf.transcription_type,
            transcription_url=conf.transcription_url,
            transcription_method=conf.transcription_method,
            record_when_alone=conf.record_when_alone,
        )

    def differences(self, other: RoomSettings) -> str:
        """`name: first <mine>, this <other's>` for each setting that differs."""
        return differences(self, other)


def differences(first: Any, this: Any) -> str:
    """`name: first <first's>, this <this's>` for each compared (eq) field of two attrs
    settings that differs (RoomSettings, MpcSettings); a set is shown sorted."""
    compared = [f.name for f in attrs.fields(type(first)) if f.eq]
    a, b = attrs.asdict(first), attrs.asdict(this)
    return ", ".join(f"{k}: first {_shown(a[k])}, this {_shown(b[k])}"
                     for k in compared if a[k] != b[k])


def _shown(value: Any) -> str:
    return repr(sorted(value)) if isinstance(value, (set, frozenset)) else repr(value)


@attrs.frozen
class RoomContext:
    """What every room is made with: the daemon's settings and its id source."""

    settings: Settings
    new_id: Callable[[], str]


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class Seat:
    """A caller's ask for a place in room `name`: who it is and what it wants told.

    `name` is the user's (rooms/names.py); `scope` keeps apart two accounts' rooms of one name
    ("" until the control API brings accounts). `callback_url` gets the member's
    enter/exit/floor/digits/record callbacks (None: none); `call_params` are the call's Plivo
    parameters every callback carries. A `<MultiPartyCall>` seat has kind MULTIPARTY_CALL,
    `settings` an `MpcSettings` and `participant` its `Participant` options (rooms/mpc_model.py).
    """

    name: str
    call_uuid: str
    settings: Any
    kind: RoomKind = RoomKind.CONFERENCE
    scope: str = ""
    role: Role = Role.MEMBER
    muted: bool = False
    deaf: bool = False
    held: bool = False
    callback_url: str | None = None
    callback_method: str = "POST"
    call_params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    floor_event: bool = False
    hangup_on_star: bool = False
    digits_match: tuple[str, ...] = ()
    digits_match_timeout_s: float = attrs.fields(Settings).digits_match_timeout_s.default
    send_digits: str | None = None
    participant: Any = None


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


class Seated:
    """What a seat's holder reads of its seat: a `Member`, and its snapshot
    (rooms/views.py `MemberView`)."""

    __slots__ = ()
    seat: Seat

    @property
    def call_uuid(self) -> str:
        return self.seat.call_uuid

    @property
    def role(self) -> Role:
        return self.seat.role


@attrs.define
class Member(Seated):
    """A seat in a room, and what the room knows of it (changed only by the room)."""

    seat: Seat
    member_id: int | None = None  # FreeSWITCH's, from add-member
    joined_at: float | None = None  # epoch seconds of its add-member
    muted: bool = False
    deaf: bool = False
    held: bool = False
    relations: dict[int, Relation] = attrs.field(factory=dict)  # other member id -> relation
    reason: ExitReason | None = None  # why the room let it go, once decided
    in_room: bool = False  # between its add-member and del-member
    matcher: DigitsMatcher | None = None  # its digitsMatch patterns, when it has any


@attrs.frozen
class Recording:
    """A room's recording: the file, what callbacks call it, and who is told when it ends."""

    conference_name: str
    conference_uuid: str
    path: str
    recording_id: str
    record_url: str
    started_ms: int
    member_id: int
    call_uuid: str
    callback_url: str | None
    callback_method: str
    call_params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    api_id: str = ""  # started by the control API (its callback has the API's parameters)
    # transcriptionUrl (and its method): the finished file is transcribed and the text posted
    # there (plivoxml_fs/effects/transcription); None: not transcribed
    transcription_url: str | None = None
    transcription_method: str = "POST"


@attrs.frozen
class Exit:
    """What `Room.leave` tells the caller's verb: its member id, room and why it left.

    `params`: ConferenceName, ConferenceUUID, ConferenceMemberID, and RecordUrl/RecordingID
    when the room is recorded, as its action URL is sent them."""

    name: str
    room_uuid: str
    member_id: int | None
    reason: ExitReason
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)


# -- inputs the edge reports back ----------------------------------------------------------

@attrs.frozen
class CommandDone:
    """The answer to a `Command` (a bgapi job's text, or `-ERR <why>` when it never ran)."""

    token: str
    text: str

    @property
    def ok(self) -> bool:
        return self.text.startswith("+OK")


# -- decisions -----------------------------------------------------------------------------

@attrs.frozen
class Command:
    """Send `cmd` (a conference API string from fs/commands) and report the answer as
    `CommandDone(token, text)`. `make_dir`: a directory to create first (a recording's);
    `call_uuid`: the member it is about (whose own socket may carry it when the inbound
    connection is down); `room`: the room's name as the user wrote it, for log lines (`cmd`
    names FreeSWITCH's room)."""

    cmd: str
    token: str
    call_uuid: str = ""
    make_dir: str | None = None
    room: str = ""


@attrs.frozen
class Emit:
    """Hand `webhook` to the outbox."""

    webhook: Webhook


@attrs.frozen
class Transcribe:
    """Transcribe the finished recording at `path` off the call path and post the result to
    `url` (effects/transcriber.py `Transcriber.submit`). `duration_ms`: the audio recorded."""

    path: str
    url: str
    method: str
    recording_id: str
    call_uuid: str
    duration_ms: int
    order_key: str = ""  # as the recording's own callbacks (Webhook.order_key)


@attrs.frozen
class Release:
    """Member `call_uuid` (member id `member_id`) is let go by the room, for `reason`."""

    call_uuid: str
    member_id: int | None
    reason: ExitReason


@attrs.frozen
class ArmTimer:
    """Call the room's `tick(now)` at `at` (epoch seconds), or soon after."""

    at: float


Decision = Command | Emit | Release | ArmTimer | Transcribe
