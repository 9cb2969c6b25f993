"""What a conference member's audio measures, frame by frame, and the stop-talking statistics.

mod_conference (conference_loop.c, conference_loop_input) measures each 20 ms frame a member
sends (its mean absolute sample, the "score"). A frame above the member's energy level starts
the talk and resets the counters; each later frame while talking counts a packet and, when above
the level, a gate hit with its energy and its change from the frame before. stop_talking_handler
then adds the `talking-*` headers to stop-talking only when that average change is not zero:

- a talk with no gate hit after the frame that started it (a 20 ms sound) has none;
- a talk whose frames all measure the same has none: a steady tone whose period is a whole
  number of samples (500 Hz at 8 kHz; media.txt and record.txt, and 6 of 6 runs on 1.10.12).

A steady tone of another frequency measures the same in every frame but the first, which
measures one more (600 Hz: media.txt's talking-average-energy 6473.000000, delta-average 1/74
after 1,500 ms). On a real FreeSWITCH that first frame is sometimes lost to timing (2 of 10 runs
of a 1,000 ms 600 Hz tone sent no `talking-*` headers); the embedded one always counts it.
Anything else a caller plays (speech, music, a tone with `v=` volume steps) changes level, so
stop-talking carries the headers on both, every time (10 of 10 runs).
"""

from __future__ import annotations

import re

#: Media ms of one frame (the conference's interval).
FRAME_MS = 20
#: Energy of each frame of a tone at libteletone's default volume (TONE_VOLUME_DB), as
#: mod_conference measured it (media.txt: talking-average-energy 6473.000000).
TONE_ENERGY = 6473
#: Samples per second of the members' audio (a tone divides it or not).
RATE_HZ = 8000
#: libteletone's default tone volume, in dB (`v=` in a tone_stream changes it).
TONE_VOLUME_DB = -7.0
#: How much more the first frame of a sound measures than the steady frames after it, unless
#: it is a tone of whole-sample periods (media.txt: Current-Energy 6474 while talking,
#: delta-average 1/74).
START_STEP = 1
#: Non-gated frames that end a talk (conference_loop.c: hangover); they are taken off the
#: talk's non-gated count at stop-talking.
HANGOVER_FRAMES = 40

_VOLUME_OR_TONE = re.compile(r"v=(-?\d+(?:\.\d+)?)|%\((\d+),(\d+)((?:,[^)]*)?)\)", re.IGNORECASE)
_LOOPS = re.compile(r"(?:^|;)\s*(?:loops|l)=(-?\d+)", re.IGNORECASE)


def frame_energies(source: str, ms: int) -> list[int]:
    """The energy of each frame of the first `ms` media ms of `source` as a member sends it:
    a tone_stream's on-parts at their `v=` volume, its off-parts silent, anything else steady;
    the first frame START_STEP more, unless the sound starts with a tone of whole-sample
    periods."""
    count = max(0, ms // FRAME_MS)
    once, whole = _tone_frames(source) if source.startswith("tone_stream://") else ([], False)
    if not once:
        frames = [TONE_ENERGY] * count
    else:
        frames, loops = [], _loops(source)
        while len(frames) < count and loops != 0:
            frames += once
            loops -= 1
        frames = (frames + [0] * count)[:count]
    if frames and frames[0] and not whole:
        frames[0] += START_STEP
    return frames


def _tone_frames(source: str) -> tuple[list[int], bool]:
    """One pass of a tone_stream: each frame's energy, and whether its first tone's
    frequencies all have periods of whole samples."""
    frames: list[int] = []
    volume, whole = TONE_VOLUME_DB, None
    for match in _VOLUME_OR_TONE.finditer(source[len("tone_stream://"):]):
        if match.group(1) is not None:
            volume = float(match.group(1))
            continue
        hz = [f.strip() for f in match.group(4).split(",") if f.strip()]
        level = round(TONE_ENERGY * 10 ** ((volume - TONE_VOLUME_DB) / 20)) if hz else 0
        if whole is None and level:
            whole = all(f.isdigit() and int(f) and RATE_HZ % int(f) == 0 for f in hz)
        frames += [level] * (int(match.group(2)) // FRAME_MS)
        frames += [0] * (int(match.group(3)) // FRAME_MS)
    return frames, bool(whole)


def _loops(source: str) -> int:
    """How many times a tone_stream plays (`loops=N`; -1 for ever)."""
    match = _LOOPS.search(source[len("tone_stream://"):])
    return int(match.group(1)) if match else 1


def stop_talking_stats(frames: list[int], energy_level: int) -> list[tuple[str, str]]:
    """The `talking-*` headers of the stop-talking that ends a talk of `frames` (the first one
    started it), as stop_talking_handler builds them; none when the delta average is 0."""
    if not frames:
        return []
    last = frames[0]
    packets = hits = nogate = energy = delta = 0
    for level in frames[1:]:
        packets += 1
        if level > energy_level:
            hits += 1
            energy += level
            delta += abs(level - last)
        else:
            nogate += 1
        last = level
    if not (hits and packets) or not delta:
        return []
    nogate = 0 if nogate < HANGOVER_FRAMES else nogate - HANGOVER_FRAMES
    gate, nogate = hits or 1, nogate or 1
    on, off = gate / packets * 100, nogate / packets * 100
    return [
        ("talking-gate-hits", str(hits)), ("talking-total-packets", str(packets)),
        ("talking-duration-ms", str(packets * FRAME_MS)),
        ("talking-average-energy", f"{energy / hits:.6f}"),
        ("talking-delta-average", f"{delta / hits:.6f}"),
        ("talking-hit-on-percent", f"{on:.6f}"),
        ("talking-non-hit-ratio", f"{nogate / gate * 100:.6f}"),
        ("talking-hit-off-percent", f"{off:.6f}"),
        ("talking-hit-off-differential", f"{on - off:.6f}"),
    ]
