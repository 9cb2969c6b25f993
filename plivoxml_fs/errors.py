"""The exception tree of plivoxml-fs. Every error names where it happened and what was wrong."""

from __future__ import annotations


class PlivoXMLError(Exception):
    """Base of every error this package raises on purpose."""


class ProtocolError(PlivoXMLError):
    """Bytes from the event socket that are not a valid ESL message."""


class UnsafeValue(PlivoXMLError, ValueError):
    """A value bound for an ESL line or a FreeSWITCH argument that could inject (CR/LF, etc.)."""


class ConnectionLost(PlivoXMLError):
    """The event-socket connection ended (EOF, reset, disconnect-notice) while we waited."""


class CommandTimeout(PlivoXMLError):
    """FreeSWITCH did not answer within the deadline."""


class CommandFailed(PlivoXMLError):
    """FreeSWITCH answered a command with -ERR."""

    def __init__(self, command: str, reply: str) -> None:
        super().__init__(f"{command!r} failed: {reply.strip()}")
        self.command = command
        self.reply = reply


class FetchError(PlivoXMLError):
    """An answer, action or redirect URL could not be fetched as an XML document."""


class ConfigError(PlivoXMLError):
    """The configuration file or environment holds a bad value."""


class EventOverflow(PlivoXMLError):
    """An event subscription fell too far behind; the events after it were dropped."""


class DocumentInvalid(PlivoXMLError):
    """An XML document that cannot run: `problems` lists the problems found, one line each.

    A long report is cut: `problems` holds the first ones, `more` counts the rest, and the
    message ends with `tail`, the line saying so.
    """

    def __init__(self, problems, *, more: int = 0, tail: str = "") -> None:
        self.problems = tuple(problems)
        self.more = more
        lines = [str(problem) for problem in self.problems]
        super().__init__("\n".join([*lines, tail] if tail else lines))


class SoundError(PlivoXMLError):
    """A sound URL (waitSound, enterSound, ...) gave no sound: names the attribute, URL, cause."""
