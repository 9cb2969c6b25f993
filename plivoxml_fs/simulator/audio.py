"""Audio of the embedded FreeSWITCH: what each channel sends, kept as timelines in media time.

Nothing is pushed frame by frame. A channel's *sent* audio (`Channel.audio.sent`, a `Track`) is a
list of segments in media milliseconds (start, end or still open, source): each file the channel
plays (playback, uuid_broadcast) is one. While the channel is a conference member it also sends
the room's mix for it (`Channel.audio.rooms`, rendered by simulator/mixer.py). What a loopback leg
*receives* is what its partner sends, as mod_loopback passes frames between its legs.

Samples (16-bit, at the rate asked) are rendered only when a file is written: `uuid_record ...
stop` (simulator/leg_record.py) and the conference recording. Sources (`signal_of`):

- `tone_stream://` as libteletone generates it: `%(on,off,hz[,hz...])` segments, each starting at
  phase 0, a tone at `v=` dB (default -7: a peak of 10184 out of 32767, -10.2 dBFS, measured on
  FreeSWITCH 1.10.12), several frequencies of one segment averaged, plus libteletone's +128
  offset; `;loops=N` (-1: until stopped);
- `silence_stream://`, `tts://` (not synthesised) and anything unreadable (MP3): silence;
- WAV files (mono or the first channel, 16-bit; resampled by nearest sample);
- `local_stream://`: the test configuration's moh.wav, a 440 Hz sine at 0.2 of full scale;
- `file_string://a!b`: its pieces one after the other.
"""

from __future__ import annotations

import abc
import functools
import math
import re
import sys
import wave
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from plivoxml_fs.simulator.media import MediaLibrary, Piece

#: Full scale of 16-bit samples.
FULL_SCALE = 32767
#: libteletone's default volume (dB) and its dBm0 reference (libteletone_generate.h).
TONE_VOLUME_DB = -7.0
TONE_DBM0_MAX_POWER = 3.14 + 3.02
#: libteletone adds this to every generated sample (teletone_mux_tones: `sample = 128`).
TONE_OFFSET = 128
#: Hold music of the test configuration (run-freeswitch.sh: `synth 5 sine 440 vol 0.2`).
MOH_HZ = 440
MOH_AMPLITUDE = int(0.2 * FULL_SCALE)
#: Media ms of one frame.
FRAME_MS = 20
#: A channel whose audio depends on itself (a loopback pair in one room) is cut here.
MAX_DEPTH = 6


def tone_amplitude(volume_db: float = TONE_VOLUME_DB) -> int:
    """Peak of one libteletone tone at `volume_db` (teletone_dds_state_set_tx_level)."""
    return int(10 ** ((volume_db - TONE_DBM0_MAX_POWER) / 20) * (FULL_SCALE * 1.414214))


def clip(value: int) -> int:
    return FULL_SCALE if value > FULL_SCALE else -FULL_SCALE - 1 if value < -FULL_SCALE - 1 else value


# -- sources ----------------------------------------------------------------------------------
class Signal(abc.ABC):
    """A source of samples; `ms` is its length (None: endless)."""

    silent = False
    ms: int | None = None

    @abc.abstractmethod
    def render(self, offset: int, count: int, rate: int) -> list[int]:
        """`count` samples at `rate` starting `offset` samples after the source's start."""


class Silence(Signal):
    silent = True

    def __init__(self, ms: int | None = None) -> None:
        self.ms = ms

    def render(self, offset: int, count: int, rate: int) -> list[int]:
        return [0] * count


def _sine(hz: float, amplitude: int, rate: int, start: int, count: int) -> list[int]:
    """amplitude * sin(2 pi hz n / rate) for n in [start, start + count), from a period table
    when the frequency repeats within a second."""
    step = 2 * math.pi * hz / rate
    if float(hz).is_integer():
        period = rate // math.gcd(int(hz), rate)
        table = [int(amplitude * math.sin(step * n)) for n in range(period)]
        first = start % period
        reps = (first + count) // period + 1
        return (table * reps)[first : first + count]
    return [int(amplitude * math.sin(step * n)) for n in range(start, start + count)]


@attrs.frozen
class ToneSegment:
    on_ms: int
    off_ms: int
    freqs: tuple[float, ...]
    amplitude: int


_TONE_SEGMENT = re.compile(r"%\(([^)]*)\)")


class Tone(Signal):
    """A tone_stream:// spec, as libteletone renders it."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        volume = TONE_VOLUME_DB
        loops = 1
        body = spec
        match = re.search(r";\s*loops=(-?\d+)", body)
        if match:
            loops = int(match.group(1))
            body = body[: match.start()] + body[match.end() :]
        segments: list[ToneSegment] = []
        for part in body.split(";"):
            part = part.strip()
            if re.match(r"^v=", part):
                try:
                    value = float(part[2:])
                except ValueError:
                    continue
                if -63 <= value <= 0:
                    volume = value
            elif re.match(r"^l=", part) and part[2:].lstrip("-").isdigit():
                loops = int(part[2:])
            for inner in _TONE_SEGMENT.findall(part):
                fields = [f.strip() for f in inner.split(",")]
                try:
                    on, off = int(fields[0]), int(fields[1]) if len(fields) > 1 else 0
                    freqs = tuple(float(f) for f in fields[2:] if f)
                except ValueError:
                    continue
                segments.append(ToneSegment(on, off, tuple(f for f in freqs if f > 0),
                                            tone_amplitude(volume)))
        self.segments = segments
        self.once_ms = sum(s.on_ms + s.off_ms for s in segments)
        self.loops = loops
        self.ms = None if loops < 0 and self.once_ms else self.once_ms * max(loops, 1)
        self.silent = not any(s.freqs for s in segments)

    def render(self, offset: int, count: int, rate: int) -> list[int]:
        out: list[int] = []
        once = self.once_ms * rate // 1000
        total = None if self.ms is None else self.ms * rate // 1000
        position = offset
        end = offset + count
        if total is not None:
            end = min(end, total)
        while position < end and once:
            within = position % once
            base = 0
            for segment in self.segments:
                on = segment.on_ms * rate // 1000
                length = on + segment.off_ms * rate // 1000
                if within < base + length:
                    into = within - base
                    take = min(length - into, end - position)
                    out += self._segment(segment, on, into, take, rate)
                    position += take
                    break
                base += length
            else:  # rounding left a sample or two past the last segment
                out.append(0)
                position += 1
        out += [0] * (count - len(out))
        return out

    @staticmethod
    def _segment(segment: ToneSegment, on: int, into: int, take: int, rate: int) -> list[int]:
        sounding = max(0, min(on - into, take))
        if not segment.freqs or not sounding:
            return [0] * take
        waves = [_sine(hz, segment.amplitude, rate, into, sounding) for hz in segment.freqs]
        n = len(waves)
        if n == 1:
            samples = [TONE_OFFSET + s for s in waves[0]]
        else:  # C's integer division truncates toward zero
            samples = [int((TONE_OFFSET + sum(column)) / n) for column in zip(*waves, strict=True)]
        return samples + [0] * (take - sounding)


class Sine(Signal):
    """An endless sine (the hold music of the test configuration)."""

    def __init__(self, hz: float, amplitude: int) -> None:
        self.hz, self.amplitude = hz, amplitude

    def render(self, offset: int, count: int, rate: int) -> list[int]:
        return _sine(self.hz, self.amplitude, rate, offset, count)


class Speech(Signal):
    """What mod_flite says, as the mixer needs it: speech-level audio (-25.5 dBFS RMS) that is
    no tone (deterministic white noise: about -52 dBFS in any 200 ms Goertzel bin, far below
    HEARS_DBFS), for `ms` media milliseconds."""

    AMPLITUDE = 3000

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def render(self, offset: int, count: int, rate: int) -> list[int]:
        span = 2 * self.AMPLITUDE + 1
        return [((i * 1103515245 + 12345) & 0x7FFFFFFF) % span - self.AMPLITUDE
                for i in range(offset, offset + count)]


class WavFile(Signal):
    """A WAV file's samples (first channel), resampled by nearest sample. The samples are read
    on first render and shared by every playback of that file (most playbacks never render)."""

    def __init__(self, path: Path, ms: int | None = None) -> None:
        self.path = Path(path)
        if ms is None:
            _, count, rate = file_samples(self.path)
            ms = count * 1000 // rate if rate else 0
        self.ms = ms

    def render(self, offset: int, count: int, rate: int) -> list[int]:
        samples, _, own = file_samples(self.path)
        size = len(samples)
        if own == rate:
            chunk = list(samples[offset : offset + count])
        else:
            chunk = [samples[i] for i in ((offset + n) * own // rate for n in range(count))
                     if i < size]
        return chunk + [0] * (count - len(chunk))


def file_samples(path: Path) -> tuple[Sequence[int], int, int]:
    """(first-channel samples, count, rate) of a 16-bit WAV file; cached by path and mtime."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return [], 0, 0
    return _read_wav(str(path), stamp)


@functools.lru_cache(maxsize=32)
def _read_wav(path: str, stamp: int) -> tuple[Sequence[int], int, int]:
    try:
        with wave.open(path, "rb") as wav:
            rate = wav.getframerate()
            channels, width = wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError):
        return [], 0, 0
    if width != 2:
        return [], 0, rate
    data = array("h")
    data.frombytes(frames[: len(frames) // 2 * 2])
    if sys.byteorder != "little":
        data.byteswap()
    samples = data[::channels] if channels > 1 else data
    return samples, len(samples), rate


class Pieces(Signal):
    """Pieces played one after the other (file_string://)."""

    def __init__(self, parts: list[Signal]) -> None:
        self.parts = parts
        lengths = [p.ms for p in parts]
        self.ms = None if any(m is None for m in lengths) else sum(lengths)  # type: ignore[misc]
        self.silent = all(p.silent for p in parts)

    def render(self, offset: int, count: int, rate: int) -> list[int]:
        out = [0] * count
        base = 0
        for part in self.parts:
            length = None if part.ms is None else part.ms * rate // 1000
            lo, hi = max(offset, base), offset + count
            if length is not None:
                hi = min(hi, base + length)
            if hi > lo and not part.silent:
                out[lo - offset : hi - offset] = part.render(lo - base, hi - lo, rate)
            if length is None:
                break
            base += length
        return out


def signal_of_piece(piece: Piece) -> Signal:
    """The samples behind one playback piece (see the module docstring)."""
    source = piece.source
    if not piece.found:
        return Silence(0)
    if source.startswith("tone_stream://"):
        return Tone(source[len("tone_stream://") :])
    if source.startswith("local_stream://"):
        return Sine(MOH_HZ, MOH_AMPLITUDE)
    path = getattr(piece, "path", None)
    if path is not None and file_samples(path)[2]:
        return WavFile(path, piece.ms)
    return Silence(piece.ms)


def signal_of(library: MediaLibrary, source: str) -> Signal:
    """The samples `playback <source>` plays (file_string:// pieces in order)."""
    pieces = [p for p in library.pieces(source) if p.found]
    if len(pieces) == 1:
        return signal_of_piece(pieces[0])
    return Pieces([signal_of_piece(p) for p in pieces])


# -- timelines --------------------------------------------------------------------------------
@attrs.define(eq=False)
class Segment:
    """One source sent from `start_ms` to `end_ms` (None: still sending)."""

    start_ms: int
    end_ms: int | None
    signal: Signal


class Track:
    """What one channel sends, as segments in media milliseconds."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []

    def start(self, signal: Signal, at_ms: int, ms: int | None = -1) -> Segment:
        """Send `signal` from `at_ms` for `ms` (its own length by default; None: until stopped)."""
        length = signal.ms if ms == -1 else ms
        segment = Segment(at_ms, None if length is None else at_ms + length, signal)
        if not signal.silent:
            self.segments.append(segment)
        return segment

    @staticmethod
    def stop(segment: Segment, at_ms: int) -> None:
        """The segment ends at `at_ms` (when it was still going then)."""
        if segment.end_ms is None or segment.end_ms > at_ms:
            segment.end_ms = max(segment.start_ms, at_ms)

    def render(self, t0: int, t1: int, rate: int) -> list[int] | None:
        """Samples sent in [t0, t1) ms; None when nothing was sent then."""
        out: list[int] | None = None
        for segment in self.segments:
            lo = max(t0, segment.start_ms)
            hi = t1 if segment.end_ms is None else min(t1, segment.end_ms)
            if hi <= lo:
                continue
            if out is None:
                out = [0] * ((t1 - t0) * rate // 1000)
            offset = (lo - segment.start_ms) * rate // 1000
            samples = segment.signal.render(offset, (hi - lo) * rate // 1000, rate)
            add_into(out, samples, (lo - t0) * rate // 1000)
        return out


def add_into(target: list[int], samples: Sequence[int] | None, at: int = 0) -> None:
    """target[at + i] += samples[i] (unclipped)."""
    if not samples:
        return
    end = min(len(target), at + len(samples))
    if end <= at:
        return
    target[at:end] = [a + b for a, b in zip(target[at:end], samples, strict=False)]


@attrs.define(eq=False)
class Membership:
    """A channel in a room from `start_ms` to `end_ms` (None: still in it)."""

    mixer: object  # simulator.mixer.RoomMixer (render_for(member_id, t0, t1, rate, depth))
    member_id: int
    start_ms: int
    end_ms: int | None = None


class ChannelAudio:
    """A channel's audio: what it sends itself, the rooms it was in, its leg recordings."""

    def __init__(self) -> None:
        self.sent = Track()
        self.rooms: list[Membership] = []
        self.recordings: dict = {}  # path -> simulator.leg_record.LegRecording


def sent(channel, t0: int, t1: int, rate: int, depth: int = 0) -> list[int] | None:
    """What `channel` sends (writes) in [t0, t1): its own files and, while a member, the mix the
    room gives it. Unclipped; None for silence."""
    if channel is None or depth > MAX_DEPTH or t1 <= t0:
        return None
    audio: ChannelAudio = channel.audio
    out = audio.sent.render(t0, t1, rate)
    for room in audio.rooms:
        lo = max(t0, room.start_ms)
        hi = t1 if room.end_ms is None else min(t1, room.end_ms)
        if hi <= lo:
            continue
        mixed = room.mixer.render_for(room.member_id, lo, hi, rate, depth + 1)
        if mixed is None:
            continue
        if out is None:
            out = [0] * ((t1 - t0) * rate // 1000)
        add_into(out, mixed, (lo - t0) * rate // 1000)
    return out


def in_pieces(render, t0: int, t1: int, rate: int, pause=lambda: None,
              step_ms: int = 5000) -> list[int]:
    """`render(lo, hi, rate)` over [t0, t1) in steps of `step_ms`, calling `pause()` between
    them (gevent.sleep: a long file renders without holding up the other calls); silence as 0s."""
    out: list[int] = []
    lo = t0
    while lo < t1:
        hi = min(t1, lo + step_ms)
        out += render(lo, hi, rate) or [0] * ((hi - lo) * rate // 1000)
        lo = hi
        if lo < t1:
            pause()
    return out


def received(channel, t0: int, t1: int, rate: int, depth: int = 0) -> list[int] | None:
    """What `channel` receives (reads) in [t0, t1): what its loopback partner sends."""
    return sent(channel.partner, t0, t1, rate, depth)


def now_ms(sim) -> int:
    """Media time now, in ms since the epoch."""
    return sim.clock.now_us() // 1000


def frame_ms(ms: int) -> int:
    """The start of the 20 ms frame `ms` falls in: media starts and recordings begin on frames,
    as FreeSWITCH reads and writes whole frames."""
    return ms // FRAME_MS * FRAME_MS


# -- files ------------------------------------------------------------------------------------
def to_pcm(samples: Sequence[int]) -> bytes:
    """16-bit little-endian PCM of `samples`, clipped."""
    data = array("h", [clip(s) for s in samples])
    if sys.byteorder != "little":
        data.byteswap()
    return data.tobytes()


def write_wav(path: str | Path, channels: Sequence[Sequence[int]], rate: int) -> int:
    """Write a 16-bit WAV of one or two channels (interleaved); returns the file's size."""
    if len(channels) == 1:
        frames = to_pcm(channels[0])
    else:
        interleaved = [s for pair in zip(*channels, strict=True) for s in pair]
        frames = to_pcm(interleaved)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return Path(path).stat().st_size
