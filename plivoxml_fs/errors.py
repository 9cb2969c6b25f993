"""The exception tree of plivoxml-fs. Every error names where it happened and what was wrong."""

from __future__ import annotations

import enum
import os


class PlivoXMLError(Exception):
    """Base of every error this package raises on purpose."""


class ExitCode(enum.IntEnum):
    """The exit status of every command, one per kind of failure (cli.py maps errors to them)."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    CONFIG = 3
    DOCUMENT = 4
    FREESWITCH = 5
    LISTEN = 6
    CALL_FAILED = 7
    WARNINGS = 8


#: What each exit status means, as `--help` and README list it.
EXIT_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FAILURE: "any other failure (the message says what)",
    ExitCode.USAGE: "bad option or argument (click's usage error)",
    ExitCode.CONFIG: "bad configuration: settings file or PLIVOXML_FS_* variable",
    ExitCode.DOCUMENT: "a document is invalid (check) or cannot be read (check, replay)",
    ExitCode.FREESWITCH: "FreeSWITCH's event socket cannot be reached (replay)",
    ExitCode.LISTEN: "an address cannot be listened on (taken, or not allowed)",
    ExitCode.CALL_FAILED: "a test call failed: the transcript's FAILED lines say why (replay)",
    ExitCode.WARNINGS: "every call completed, some with warnings (replay --strict)",
}


class ListenError(PlivoXMLError):
    """A listening socket could not be opened: names the address, the setting and the cause."""

    def __init__(self, address: tuple[str, int], setting: str, cause: OSError | str) -> None:
        host, port = address[:2]
        if isinstance(cause, OSError):
            # gevent appends the address to strerror; the address is named once, here
            cause = os.strerror(cause.errno) if cause.errno else str(cause)
        super().__init__(f"cannot listen on {host}:{port} ({setting}): {cause}")
        self.address = (host, port)
        self.setting = setting
        self.cause = cause

    def named(self, setting: str) -> ListenError:
        """The same failure naming another setting (e.g. the option that gave the address)."""
        return ListenError(self.address, setting, self.cause)


class DocumentUnavailable(PlivoXMLError, FileNotFoundError):
    """A document named on the command line is not a file there is (or not usable where named)."""


class FreeSwitchUnreachable(PlivoXMLError):
    """FreeSWITCH's inbound event socket did not answer (or refused the password) in time."""


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


class StateInUse(ConfigError):
    """A state file that another running daemon holds (its `<file>.lock` is locked): two
    daemons configured with one state_dir."""


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
