"""replay's transcript: readable, time-stamped lines, and the log handler that feeds it.

Split from replay.py (which re-exports its names); see there for what the transcript shows.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from plivoxml_fs.replay import Replay


class Transcript:
    """Readable, time-stamped lines: one per verb, command, event and HTTP request.

    Lines about a call whose label is not known yet (the daemon may speak of the B leg before
    FreeSWITCH has told us which test call it belongs to) wait until it is, then come out in
    their order with their own times.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.start = time.monotonic()
        self.labels: dict[str, str] = {}
        self._waiting: dict[str, list[tuple[float, str]]] = {}

    def line(self, who: str, text: str, at: float | None = None) -> None:
        elapsed = (at if at is not None else time.monotonic()) - self.start
        self.out.write(f"[{elapsed:7.3f}] {who:<10} {text}\n")
        self.out.flush()

    def call_line(self, call_uuid: str, text: str, at: float | None = None) -> None:
        """A line about one call: shown now if the call is labelled, else when it is."""
        at = time.monotonic() if at is None else at
        if call_uuid in self.labels:
            self.line(self.labels[call_uuid], text, at)
        else:
            self._waiting.setdefault(call_uuid, []).append((at, text))

    def set_label(self, call_uuid: str, label: str) -> None:
        self.labels[call_uuid] = label
        for at, text in self._waiting.pop(call_uuid, []):
            self.line(label, text, at)

    def flush(self) -> None:
        """Show what still waits for a label under the call's uuid."""
        for call_uuid in list(self._waiting):
            self.set_label(call_uuid, call_uuid[:8])

    def label(self, call_uuid: str) -> str:
        return self.labels.get(call_uuid, call_uuid[:8] if call_uuid else "-")


#: Daemon debug lines worth a transcript line: commands sent, and the events that decide things.
_SHOWN_DEBUG = re.compile(
    r"^verb |^-> |^<- -ERR|^<- event (CHANNEL_EXECUTE_COMPLETE|CHANNEL_ANSWER|CHANNEL_HANGUP|DTMF"
    r"|BACKGROUND_JOB|[a-z-]+-member|conference-)"
)
#: The connection-name prefix the transport puts on its lines (the transcript labels calls).
_CONN_PREFIX = re.compile(r"^(call|outbound) [^:]*: ")


class _TranscriptHandler(logging.Handler):
    """Feeds the daemon's log records (DEBUG included) into the transcript and the verdicts."""

    def __init__(self, replay: Replay) -> None:
        super().__init__(logging.DEBUG)
        self.replay = replay

    def emit(self, record: logging.LogRecord) -> None:
        call = getattr(record, "call_uuid", "") or ""
        text = record.getMessage()
        if record.levelno >= logging.ERROR:
            self.replay.errors.setdefault(call, []).append(text)
        elif record.levelno == logging.WARNING and call:
            self.replay.warnings.append((call, text))
        if record.name.startswith("plivoxml_fs.replay"):
            return
        self.replay.last_daemon_log = time.monotonic()
        text = _CONN_PREFIX.sub("", text)
        if record.levelno < logging.INFO and not (call and _SHOWN_DEBUG.search(text)):
            return
        if not call and record.levelno < logging.WARNING:
            return
        level = "" if record.levelno <= logging.INFO else f"{record.levelname}: "
        try:
            if call:
                self.replay.transcript.call_line(call, f"{level}{text}")
            else:
                self.replay.transcript.line(record.name.rsplit(".", 1)[-1], f"{level}{text}")
        except OSError:  # stdout closed (e.g. piped into head): the run goes on regardless
            self.handleError(record)
