"""The audio of a conference room, as mod_conference's mixer makes it, rendered on demand.

A `RoomMixer` keeps what decides who hears whom, over media time: a snapshot of every member's
hear/speak state after each change (`changed`: join, leave, mute, deaf, hold, relate), and the
files played to the room or to one member (`file_started`/`file_stopped`). `render_for(member)`
gives the samples that member receives, frame by frame (20 ms, each frame under the rules in force
at its start), as conference_thread_run and conference_loop_output compute them on FreeSWITCH
1.10.12 (mod_conference.c, checked there with one tone per caller):

- a member hears the sum of the other members that speak (not muted, not on hold), less any X with
  `relate X <me> nospeak` or `relate <me> X nohear`, plus the files played to the room; the sum is
  clipped to 16 bits, never scaled;
- a deaf member's room audio is all -1 (mod_conference fills it with 0xFFFF bytes); files played
  to it still reach it;
- a file played to one member is mixed into what it hears; a hold file (`hold <id> <file>`) is
  played without mixing: while it lasts the member hears it alone, then the room again;
- the room's recorder hears every member that speaks and the room's files, whatever `relate`
  says (the recorder is no member `relate` can name).

- a member's frames reach the mix only through mod_conference's energy gate (gate.py): with a
  member's energy level above 0 its quiet frames, the first frames of a soft sound and those
  39 frames after the talk are not mixed (measured on 1.10.12: tests/simulator/fs-traces/
  gate-probe.json). The gate measures what the member sends at 8 kHz, frame by frame from its
  join (20 ms frames of media time).

Not modelled: volume_in/out, comfort noise, auto-energy-level and max-energy-level.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import attrs

from plivoxml_fs.simulator.audio import Signal, add_into, clip, received
from plivoxml_fs.simulator.gate import Gate, score

#: The rate at which the gate measures a member's frames (its PCMU/L16 8 kHz read frames).
GATE_RATE = 8000
GATE_FRAME = GATE_RATE * 20 // 1000

FRAME_MS = 20
#: What mod_conference writes to a member that cannot hear (memset 255 of 16-bit samples).
DEAF_SAMPLE = -1


@attrs.frozen
class View:
    """One member's state at one moment, as the mixer sees it."""

    id: int
    channel: object
    speaks: bool  # mixed: can speak and not on hold
    hears: bool
    nospeak: frozenset[int]  # members that must not hear this one (relate <me> X nospeak)
    nohear: frozenset[int]  # members this one must not hear (relate <me> X nohear)
    energy: int = 0  # its energy level (0: every frame mixed)


@attrs.define(eq=False)
class FileSpan:
    """A file played to the room (member None) or to one member, and when."""

    signal: Signal
    start_ms: int
    end_ms: int | None
    member: int | None
    mux: bool = True

    def active(self, at_ms: int) -> bool:
        return self.start_ms <= at_ms and (self.end_ms is None or at_ms < self.end_ms)


class RoomMixer:
    """Who hears whom in one room, over time, and the samples that follow from it."""

    def __init__(self, now_ms=None) -> None:
        self._times: list[int] = []
        self._states: list[dict[int, View]] = []
        self.files: list[FileSpan] = []
        # media ms now (None: no clock): gate decisions are kept only for frames before it,
        # whose audio can no longer change
        self._now_ms = now_ms
        self._gates: dict[int, _GateTrack] = {}

    # -- inputs ---------------------------------------------------------------------------------
    def changed(self, members: Iterable, at_ms: int) -> None:
        """Record the members' state (conference.Member objects) from `at_ms` on."""
        views = {}
        for member in members:
            relations = member.relations
            views[member.id] = View(
                member.id, member.channel, member.can_speak and not member.hold, member.can_hear,
                frozenset(o for o, what in relations.items() if "nospeak" in what),
                frozenset(o for o, what in relations.items() if "nohear" in what),
                getattr(member, "energy", 0),
            )
        if self._times and self._times[-1] == at_ms:
            self._states[-1] = views
        else:
            self._times.append(at_ms)
            self._states.append(views)

    def file_started(self, signal: Signal, at_ms: int, ms: int | None, *, member: int | None = None,
                     mux: bool = True) -> FileSpan:
        span = FileSpan(signal, at_ms, None if ms is None else at_ms + ms, member, mux)
        if not signal.silent:
            self.files.append(span)
        return span

    @staticmethod
    def file_stopped(span: FileSpan, at_ms: int) -> None:
        if span.end_ms is None or span.end_ms > at_ms:
            span.end_ms = max(span.start_ms, at_ms)

    # -- rendering ------------------------------------------------------------------------------
    def state_at(self, at_ms: int) -> dict[int, View]:
        index = bisect.bisect_right(self._times, at_ms) - 1
        return self._states[index] if index >= 0 else {}

    def _plan(self, listener: int | None, at_ms: int) -> tuple | None:
        """What `listener` (None: the recorder) hears in the frame starting at `at_ms`:
        (deaf, speakers (id, channel), room files, own mixed files, own unmixed files)."""
        state = self.state_at(at_ms)
        own_mixed: tuple = ()
        own_alone: tuple = ()
        if listener is not None:
            me = state.get(listener)
            if me is None:
                return None
            mine = [f for f in self.files if f.member == listener and f.active(at_ms)]
            own_mixed = tuple(f for f in mine if f.mux)
            own_alone = tuple(f for f in mine if not f.mux)
            if own_alone:
                return (False, (), (), (), own_alone)
            if not me.hears:
                return (True, (), (), own_mixed, ())
        speakers = tuple(
            (view.id, view.channel) for view in state.values()
            if view.speaks and view.id != listener and (
                listener is None
                or (listener not in view.nospeak and view.id not in state[listener].nohear))
        )
        room_files = tuple(f for f in self.files if f.member is None and f.active(at_ms))
        return (False, speakers, room_files, own_mixed, ())

    def render_for(self, listener: int | None, t0: int, t1: int, rate: int,
                   depth: int = 0) -> list[int] | None:
        """Samples member `listener` (None: the room's recorder) receives in [t0, t1) ms."""
        if t1 <= t0:
            return None
        out = [0] * ((t1 - t0) * rate // 1000)
        for lo, hi, plan in self._runs(listener, t0, t1):
            if plan is None:
                continue
            deaf, speakers, room_files, own_mixed, own_alone = plan
            at = (lo - t0) * rate // 1000
            count = (hi - lo) * rate // 1000
            chunk = [DEAF_SAMPLE] * count if deaf else [0] * count
            for member_id, channel in speakers:
                add_into(chunk, self._gated(member_id, channel, lo, hi, rate, depth))
            for span in room_files + own_mixed + own_alone:
                add_into(chunk, span.signal.render((lo - span.start_ms) * rate // 1000, count,
                                                   rate))
            out[at : at + count] = [clip(s) for s in chunk]
        return out

    def _runs(self, listener: int | None, t0: int, t1: int):
        """(start, end, plan) for stretches of consecutive frames with one plan."""
        start = t0
        current = self._plan(listener, t0)
        frame = (t0 // FRAME_MS + 1) * FRAME_MS
        while frame < t1:
            plan = self._plan(listener, frame)
            if plan != current:
                yield start, frame, current
                start, current = frame, plan
            frame += FRAME_MS
        yield start, t1, current

    # -- the energy gate ------------------------------------------------------------------------
    def _gated(self, member_id: int, channel, lo: int, hi: int, rate: int,
               depth: int) -> list[int] | None:
        """What member `member_id` sends in [lo, hi) that its energy gate lets into the mix."""
        samples = received(channel, lo, hi, rate, depth)
        if samples is None:
            return None
        mixed = self._mixed(member_id, channel, lo, hi, depth)
        if all(mixed.values()):
            return samples
        for frame, ok in mixed.items():
            if not ok:
                a = max(0, (frame - lo) * rate // 1000)
                b = min(len(samples), (frame + FRAME_MS - lo) * rate // 1000)
                samples[a:b] = [0] * (b - a)
        return samples

    def _mixed(self, member_id: int, channel, lo: int, hi: int, depth: int) -> dict[int, bool]:
        """{frame start ms: mixed} for the frames of [lo, hi) (frames of media time)."""
        track = self._gates.get(member_id)
        if track is None:
            track = self._gates[member_id] = _GateTrack(self._joined_ms(member_id, lo))
        first = lo // FRAME_MS * FRAME_MS
        last = (hi - 1) // FRAME_MS * FRAME_MS
        horizon = None if self._now_ms is None else self._now_ms() // FRAME_MS * FRAME_MS
        keep = last if horizon is None else min(last, horizon - FRAME_MS)
        if keep >= track.next_ms:
            self._run_gate(track.gate, member_id, channel, track.next_ms, keep + FRAME_MS,
                           depth, track.put)
            track.next_ms = keep + FRAME_MS
        out = {f: track.get(f) for f in range(first, min(last, track.next_ms - FRAME_MS)
                                              + FRAME_MS, FRAME_MS)}
        if last >= track.next_ms:  # frames whose audio may still change: not kept
            later: dict[int, bool] = {}
            self._run_gate(attrs.evolve(track.gate), member_id, channel, track.next_ms,
                           last + FRAME_MS, depth, later.__setitem__)
            out.update((f, later[f]) for f in range(max(first, track.next_ms), last + FRAME_MS,
                                                    FRAME_MS))
        return out

    def _joined_ms(self, member_id: int, fallback: int) -> int:
        for at, state in zip(self._times, self._states, strict=True):
            if member_id in state:
                return at // FRAME_MS * FRAME_MS
        return fallback // FRAME_MS * FRAME_MS

    def _run_gate(self, gate: Gate, member_id: int, channel, t0: int, t1: int, depth: int,
                  put) -> None:
        """Feed the frames of [t0, t1) to `gate`: `put(frame start ms, mixed)` for each."""
        if t1 <= t0:
            return
        samples = received(channel, t0, t1, GATE_RATE, depth)
        for n, frame in enumerate(range(t0, t1, FRAME_MS)):
            view = self.state_at(frame).get(member_id)
            if view is None:
                put(frame, False)
                continue
            chunk = samples[n * GATE_FRAME:(n + 1) * GATE_FRAME] if samples else ()
            put(frame, gate.frame(score(chunk) if chunk else 0, view.energy, view.speaks))


class _GateTrack:
    """One member's gate over media time: its decisions for frames before `next_ms`."""

    def __init__(self, start_ms: int) -> None:
        self.gate = Gate()
        self.next_ms = start_ms
        self.start_ms = start_ms
        self.mixed = bytearray()  # one byte a frame from start_ms

    def put(self, frame: int, mixed: bool) -> None:
        index = (frame - self.start_ms) // FRAME_MS
        if index == len(self.mixed):
            self.mixed.append(mixed)
        elif 0 <= index < len(self.mixed):
            self.mixed[index] = mixed

    def get(self, frame: int) -> bool:
        index = (frame - self.start_ms) // FRAME_MS
        return 0 <= index < len(self.mixed) and bool(self.mixed[index])
