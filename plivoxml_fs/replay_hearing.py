"""`plivoxml-fs replay` with several callers: who they are, who hears whom, and when they hang up.

- The cast: each caller's role comes from its own document (the first `<MultiPartyCall>`'s
  `role`, as Plivo reports it: Customer, Agent, Supervisor; a `<Conference>` member has none);
  the transcript names each caller, its document, the room and the role before the calls start,
  and the matrix names callers `call1 Customer`, `call2 Agent`, ...
- `--hearing`: once every caller is in its room (FreeSWITCH's add-member for each caller's B leg)
  and the daemon has sent nothing for QUIET_S (the room's relates, mutes and music are set up),
  each caller plays its own tone from its phone (the loopback A leg) while what each phone
  receives is recorded (plivoxml_fs/hearing.py `measure`, the code the tests run); the end of
  the transcript shows the matrix: the level of every caller's tone in what every caller heard,
  `heard`/`-` against HEARS_DBFS, then a row per recording the callbacks named (RecordingURL,
  RecordUrl; WAV only): every caller's tone in it (what recordCoachVoice decides). Callers that never all meet (one hangs up first, or a
  document joins no room) make the run fail naming them: the user asked for something the
  documents did not give.
- `--hangup-after S`: S seconds after every caller is in its room (and after the measurement,
  with --hearing), the callers still up hang up, in caller order (what ends a call-centre call:
  `<MultiPartyCall>` rooms do not end by themselves).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import gevent

from plivoxml_fs.documents import parse_document
from plivoxml_fs.documents.models import Conference, MultiPartyCall
from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.hearing import (
    HEARS_DBFS,
    TONES_HZ,
    Hearing,
    MeasureError,
    Party,
    measure,
    read_wav,
    tone_levels,
)

if TYPE_CHECKING:
    from plivoxml_fs.replay import Replay

#: Events the watch needs on replay's inbound connection.
EVENTS = ("conference::maintenance",)
#: Wall seconds the daemon must have logged nothing (no command sent, no event taken) once every
#: caller is in its room, before the measurement starts; and at most how long to wait for that.
QUIET_S = 0.3
QUIET_MAX_S = 5.0
#: At most this many callers can be told apart by their tones.
MAX_CALLERS = len(TONES_HZ)
#: The most a document is read to find its room (replay's documents are local files).
MAX_DOCUMENT_BYTES = 1 << 20


@attrs.frozen
class Role:
    """What a caller's document says about it: the verb and room it joins, and its role."""

    verb: str = ""  # "MultiPartyCall", "Conference" or "" (joins no room)
    room: str = ""
    role: str = ""  # a <MultiPartyCall> role as Plivo spells it; "" for a Conference member

    def describe(self) -> str:
        if not self.verb:
            return "joins no room"
        who = f"{self.role} in " if self.role else "member of "
        return f"{who}<{self.verb}> {self.room}"


def role_of(path: str) -> Role:
    """The first room verb of the document at `path` (a file), with its role; Role() when the
    document joins none or cannot be read (the daemon reports that in the transcript)."""
    try:
        data = Path(path).read_bytes()
        document = parse_document(data, source=path, max_bytes=MAX_DOCUMENT_BYTES)
    except (OSError, PlivoXMLError):
        return Role()
    for verb in document.verbs:
        if isinstance(verb, MultiPartyCall):
            return Role("MultiPartyCall", verb.name, verb.role)
        if isinstance(verb, Conference):
            return Role("Conference", verb.name)
    return Role()


@attrs.frozen
class Caller:
    """One test call: its label (call1, ...), its A leg, and what its document says."""

    label: str
    a_leg: str
    document: str
    role: Role

    @property
    def name(self) -> str:
        """The caller's name in the matrix: `call1 Customer`, or `call1`."""
        return f"{self.label} {self.role.role}" if self.role.role else self.label


class HearingWatch:
    """Follows the callers into their rooms; measures who hears whom and hangs them up, as
    asked. `on_event` takes replay's conference events; `run` is its greenlet."""

    def __init__(self, replay: Replay, *, hearing: bool, hangup_after_s: float | None,
                 record_dir: Path | None = None) -> None:
        self.replay = replay
        self.hearing = hearing
        self.hangup_after_s = hangup_after_s
        self.members: dict[str, str] = {}  # uuid FreeSWITCH has in a room now -> the room
        self.callers: list[Caller] = []
        self.result: Hearing | None = None
        self.failure = ""
        self._temp = record_dir is None
        self.record_dir = Path(record_dir or tempfile.mkdtemp(prefix="plivoxml-fs-hearing-"))

    # -- events -------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if event.get("Event-Subclass") != "conference::maintenance":
            return
        action, uid = event.get("Action", ""), event.get("Unique-ID", "")
        if action == "add-member" and uid:
            self.members[uid] = event.get("Conference-Name", "")
        elif action == "del-member":
            self.members.pop(uid, None)

    # -- the run ------------------------------------------------------------------------------
    def run(self, callers: Sequence[Caller]) -> None:
        self.callers = list(callers)
        if not self._all_in():
            return
        if self.hearing:
            self._wait_quiet()
            self._measure()
        if self.hangup_after_s is not None:
            gevent.sleep(self.hangup_after_s)
            self._hang_up()

    def _b_leg(self, caller: Caller) -> str:
        return self.replay._b_leg_of(caller.a_leg)

    def _up(self, caller: Caller) -> bool:
        return not self.replay.hangups[caller.a_leg].is_set()

    def _all_in(self) -> bool:
        """Wait until every caller's B leg is in a room; False (and the failure, with
        --hearing) when a caller hangs up first."""
        while True:
            out = [c for c in self.callers if self._b_leg(c) not in self.members]
            if not out:
                rooms: dict[str, list[str]] = {}
                for c in self.callers:
                    rooms.setdefault(self.members.get(self._b_leg(c), ""), []).append(c.label)
                where = "; ".join(f"{room}: {', '.join(labels)}" for room, labels in rooms.items())
                self._line(f"every caller is in its room (FreeSWITCH's {where})")
                return True
            gone = [c for c in out if not self._up(c)]
            if gone:
                names = ", ".join(c.name for c in gone)
                if self.hearing:
                    self.failure = (f"hearing: not measured: {names} ended without all callers "
                                    f"in their rooms at once")
                self._line(f"{names} ended before every caller was in its room")
                return False
            gevent.sleep(0.02)

    def _wait_quiet(self) -> None:
        deadline = time.monotonic() + QUIET_MAX_S
        while time.monotonic() < deadline:
            if time.monotonic() - self.replay.last_daemon_log >= QUIET_S:
                return
            gevent.sleep(0.05)

    def _measure(self) -> None:
        assert self.replay.client is not None
        client = self.replay.client

        def api(cmd: str) -> str:
            return client.api(cmd, timeout=10.0, check=False)

        tones = ", ".join(f"{c.name} {hz} Hz" for c, hz in zip(self.callers, TONES_HZ,
                                                                strict=False))
        self._line(f"each caller plays its tone ({tones}); recording what each hears")
        parties = [Party(c.name, c.a_leg) for c in self.callers]
        try:
            self.result = measure(api, parties, self.record_dir,
                                  time_scale=self.replay.options.time_scale)
        except MeasureError as exc:
            self.failure = f"hearing: not measured: {exc}"
            self._line(f"not measured: {exc}")
            return
        self._line("measured (the matrix is at the end of the transcript)")

    def _hang_up(self) -> None:
        assert self.replay.client is not None
        for caller in self.callers:
            if self._up(caller):
                self.replay.transcript.line(f"{caller.label}/A",
                                            f"hangs up (--hangup-after {self.hangup_after_s:g})")
                self.replay.client.api(f"uuid_kill {caller.a_leg}", timeout=5.0, check=False)

    def verdict(self) -> str:
        """Why the run fails because of the watch ("" when it does not): --hearing asked for a
        matrix the run never made (callers never all in, a refused command, the calls ending
        during the measurement)."""
        if self.failure or not self.hearing or self.result is not None:
            return self.failure
        return "hearing: not measured: the calls ended before the measurement did"

    # -- the report ---------------------------------------------------------------------------
    def report(self) -> None:
        """The matrix at the end of the transcript (when measured)."""
        if self.result is None:
            return
        names = [c.name for c in self.callers]
        levels = self.result.levels
        width = max(12, *(len(n) for n in names))
        line = self._line
        line(f"who hears whom: each row is what that caller heard, each column a caller's tone "
             f"(dBFS; heard at {HEARS_DBFS:g} or above)")
        corner = "heard by \\ from"
        line(f"{corner:>{width}} " + " ".join(f"{n:>{width}}" for n in names))
        for listener in names:
            cells = []
            for speaker in names:
                if speaker == listener:
                    cells.append(f"{'(self)':>{width}}")
                    continue
                mark = "heard" if self.result.hears(listener, speaker) else "-"
                cells.append(f"{mark} {levels[listener][speaker]:.1f}".rjust(width))
            line(f"{listener:>{width}} " + " ".join(cells))
        for label, found in self._recordings():
            if isinstance(found, str):
                line(f"{label}: {found}")
                continue
            cells = [(f"{'heard' if found[n] >= HEARS_DBFS else '-'} {found[n]:.1f}").rjust(width)
                     for n in names]
            line(f"{label:>{width}} " + " ".join(cells))

    def _recordings(self) -> list[tuple[str, dict[str, float] | str]]:
        """Each recording the callbacks named (RecordingURL, RecordUrl) that is on this machine:
        the level of every caller's tone in it, or why it was not read."""
        webapp = self.replay.webapp
        if webapp is None or webapp.recordings is None:
            return []
        names: list[str] = []
        for hit in webapp.hits:
            url = hit.params.get("RecordingURL") or hit.params.get("RecordUrl") or ""
            name = url.rsplit("/", 1)[-1]
            if name and name not in names and (webapp.recordings / name).is_file():
                names.append(name)
        tones = {c.name: hz for c, hz in zip(self.callers, TONES_HZ, strict=False)}
        rows: list[tuple[str, dict[str, float] | str]] = []
        for k, name in enumerate(names, start=1):
            label = "recording" if len(names) == 1 else f"recording {k}"
            try:
                samples, rate = read_wav(webapp.recordings / name)
            except (OSError, EOFError, ValueError, wave.Error):
                rows.append((label, f"{name} is not a 16-bit WAV file: not read"))
                continue
            found = tone_levels(samples, rate, list(tones.values()))
            rows.append((label, {who: found[hz] for who, hz in tones.items()}))
        return rows

    def stop(self) -> None:
        if self._temp:
            shutil.rmtree(self.record_dir, ignore_errors=True)

    def _line(self, text: str) -> None:
        self.replay.transcript.line("hearing", text)


def cast(labels_and_legs: Sequence[tuple[str, str]], documents: Sequence[str]) -> list[Caller]:
    """The callers, in order, each with its document's role."""
    roles = {doc: role_of(doc) for doc in set(documents)}
    return [Caller(label, a_leg, doc, roles[doc])
            for (label, a_leg), doc in zip(labels_and_legs, documents, strict=True)]
