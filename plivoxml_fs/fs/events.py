"""Typed, immutable views over the FreeSWITCH events the daemon acts on.

Each view is built from an `Event` by its `from_event`, which checks the event's name and the
headers the view needs and raises `ProtocolError` naming the event and header otherwise (never a
guessed default). `view(event)` picks the right one, or returns None for events we do not type.
Header names and values are those recorded from FreeSWITCH 1.10.12 (tests/esl/fs-traces).
"""

from __future__ import annotations

import attrs

from plivoxml_fs.errors import ProtocolError
from plivoxml_fs.esl.messages import Event

CONFERENCE_SUBCLASS = "conference::maintenance"


def _need(event: Event, header: str) -> str:
    value = event.get(header)
    if value is None or value == "":
        raise ProtocolError(f"{event.name or 'event'}: no {header} header")
    return value


def _int(event: Event, header: str, *, required: bool = False) -> int | None:
    value = event.get(header)
    if value is None or value == "":
        if required:
            raise ProtocolError(f"{event.name or 'event'}: no {header} header")
        return None
    if not value.isascii() or not value.lstrip("-").isdigit():
        raise ProtocolError(f"{event.name or 'event'}: {header} is not an integer ({value!r})")
    return int(value)


def _expect(event: Event, name: str, subclass: str = "") -> None:
    if event.name != name or (subclass and event.subclass != subclass):
        got = f"{event.name}/{event.subclass}" if event.subclass else event.name
        want = f"{name}/{subclass}" if subclass else name
        raise ProtocolError(f"expected a {want} event, got {got or 'no Event-Name'}")


@attrs.frozen
class ExecuteComplete:
    """CHANNEL_EXECUTE_COMPLETE: an application we ran (or the dialplan ran) has ended."""

    unique_id: str
    app: str
    app_uuid: str  # our Event-UUID, when we sent one; else FreeSWITCH's own
    app_data: str
    response: str  # Application-Response, e.g. FILE PLAYED, _none_

    @classmethod
    def from_event(cls, event: Event) -> ExecuteComplete:
        _expect(event, "CHANNEL_EXECUTE_COMPLETE")
        return cls(
            unique_id=event.unique_id,
            app=_need(event, "Application"),
            app_uuid=event.get("Application-UUID", ""),
            app_data=event.get("Application-Data", ""),
            response=event.get("Application-Response", ""),
        )


@attrs.frozen
class JobResult:
    """BACKGROUND_JOB: the result of a bgapi command, its body as text."""

    job_uuid: str
    command: str
    text: str

    @property
    def ok(self) -> bool:
        """False when FreeSWITCH's answer starts with -ERR (or -USAGE)."""
        return not self.text.startswith(("-ERR", "-USAGE"))

    @classmethod
    def from_event(cls, event: Event) -> JobResult:
        _expect(event, "BACKGROUND_JOB")
        command = event.get("Job-Command", "")
        arg = event.get("Job-Command-Arg", "")
        return cls(
            job_uuid=_need(event, "Job-UUID"),
            command=f"{command} {arg}".strip(),
            text=event.body_text,
        )


@attrs.frozen
class Hangup:
    """CHANNEL_HANGUP or CHANNEL_HANGUP_COMPLETE of a channel, with its cause."""

    unique_id: str
    cause: str
    complete: bool

    @classmethod
    def from_event(cls, event: Event) -> Hangup:
        if event.name not in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
            _expect(event, "CHANNEL_HANGUP")
        return cls(
            unique_id=_need(event, "Unique-ID"),
            cause=_need(event, "Hangup-Cause"),
            complete=event.name == "CHANNEL_HANGUP_COMPLETE",
        )


@attrs.frozen
class Dtmf:
    """DTMF: one digit pressed on a channel."""

    unique_id: str
    digit: str
    duration: int | None  # in samples, as FreeSWITCH reports DTMF-Duration

    @classmethod
    def from_event(cls, event: Event) -> Dtmf:
        _expect(event, "DTMF")
        digit = _need(event, "DTMF-Digit")
        if len(digit) != 1 or digit not in "0123456789*#ABCDabcd":
            raise ProtocolError(f"DTMF: DTMF-Digit is not a DTMF digit ({digit!r})")
        return cls(
            unique_id=_need(event, "Unique-ID"),
            digit=digit,
            duration=_int(event, "DTMF-Duration"),
        )


@attrs.frozen
class ConferenceEvent:
    """A conference::maintenance event: `action` and the room; member fields when about one."""

    action: str
    conference_name: str
    conference_uid: str  # Conference-Unique-ID: rooms are keyed on it, names are reused
    size: int | None
    member_id: int | None
    unique_id: str | None  # the member's channel, when the event is about a member
    event: Event  # every other header (Path, Digits, File, milliseconds, ...)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.event.get(name, default)

    @classmethod
    def from_event(cls, event: Event) -> ConferenceEvent:
        _expect(event, "CUSTOM", CONFERENCE_SUBCLASS)
        return cls(
            action=_need(event, "Action"),
            conference_name=_need(event, "Conference-Name"),
            conference_uid=_need(event, "Conference-Unique-ID"),
            size=_int(event, "Conference-Size"),
            member_id=_int(event, "Member-ID"),
            unique_id=event.get("Unique-ID") or None,
            event=event,
        )


View = ExecuteComplete | JobResult | Hangup | Dtmf | ConferenceEvent

_BY_NAME = {
    "CHANNEL_EXECUTE_COMPLETE": ExecuteComplete.from_event,
    "BACKGROUND_JOB": JobResult.from_event,
    "CHANNEL_HANGUP": Hangup.from_event,
    "CHANNEL_HANGUP_COMPLETE": Hangup.from_event,
    "DTMF": Dtmf.from_event,
}


def view(event: Event) -> View | None:
    """The typed view of `event`, or None for an event this module does not type."""
    if event.name == "CUSTOM":
        return ConferenceEvent.from_event(event) if event.subclass == CONFERENCE_SUBCLASS else None
    build = _BY_NAME.get(event.name)
    return None if build is None else build(event)
