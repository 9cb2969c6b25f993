"""Who hears whom in a room, measured from audio, on the embedded or a real FreeSWITCH.

Every caller is a loopback call whose B leg is in the room and whose A leg stands for the
caller's phone. `measure` gives each caller its own tone (`uuid_broadcast <A> tone_stream://...
aleg`: the A leg sends it, the member says it), records what each A leg receives (`uuid_record`
with RECORD_READ_ONLY=true: what the member hears), and reads every tone's level in every
recording (plivoxml_fs.testing.hearing_matrix). Only API commands are used, so the same code
drives both FreeSWITCHes; the caller passes its `api` function.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import gevent

from plivoxml_fs.testing import TONES_HZ, Hearing, hearing_matrix

#: Media ms each caller's tone lasts. On a real FreeSWITCH 1.10.12 the first member of a room
#: received 2 to 3.2 s of distorted audio (no tested tone above -34 dBFS) instead of the mix
#: during each measurement, clean before and after; the tones outlast that, and a tone counts as
#: heard from its loudest 200 ms window.
TONE_MS = 4000
#: Wall seconds allowed beyond the tone for the playbacks to end and the files to be written.
SLACK_S = 10.0


@attrs.frozen
class Party:
    """One caller: a name for the matrix and the uuid of its A leg (the caller's phone)."""

    name: str
    a_leg: str


def _ok(api: Callable[[str], str], command: str, expected: str) -> None:
    reply = api(command)
    assert reply.startswith(expected), f"{command}: {reply!r}"


def _wait(what: str, ready: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        gevent.sleep(0.02)


def _written(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


def measure(api: Callable[[str], str], parties: Sequence[Party], record_dir: Path, *,
            tone_ms: int = TONE_MS, time_scale: float = 1.0) -> Hearing:
    """Each party plays its own tone while every party's received audio is recorded; the
    levels of every tone in every recording."""
    if len(parties) > len(TONES_HZ):
        raise ValueError(f"at most {len(TONES_HZ)} parties (one tone each)")
    record_dir.mkdir(parents=True, exist_ok=True)
    tones = {p.name: hz for p, hz in zip(parties, TONES_HZ, strict=False)}
    paths = {p.name: record_dir / f"heard-{p.name}-{p.a_leg}.wav" for p in parties}
    for party in parties:
        _ok(api, f"uuid_setvar {party.a_leg} RECORD_READ_ONLY true", "+OK")
        _ok(api, f"uuid_setvar {party.a_leg} playback_ms", "+OK")  # set again when the tone ends
    for party in parties:
        _ok(api, f"uuid_record {party.a_leg} start {paths[party.name]}", "+OK Success")
    for party in parties:
        tone = f"tone_stream://%({tone_ms},0,{tones[party.name]})"
        _ok(api, f"uuid_broadcast {party.a_leg} {tone} aleg", "+OK Message sent")
    timeout = tone_ms / 1000 * time_scale + SLACK_S
    _wait("the tones to end", lambda: all(
        api(f"uuid_getvar {p.a_leg} playback_ms").strip() not in ("", "_undef_")
        for p in parties), timeout)
    for party in parties:
        _ok(api, f"uuid_record {party.a_leg} stop {paths[party.name]}", "+OK Success")
    _wait("the recordings to be written", lambda: all(_written(p) for p in paths.values()),
          SLACK_S)
    return hearing_matrix(paths, tones)


def heard(hearing: Hearing) -> dict[str, set[str]]:
    """listener -> the other parties it hears (the shape tests assert)."""
    return {name: hearing.heard_by(name) for name in hearing.levels}


def everyone_but(names: Sequence[str], *left_out: str) -> dict[str, set[str]]:
    """What an unrestricted room gives: each hears all the others (but `left_out`)."""
    return {n: {m for m in names if m != n and m not in left_out} for n in names}
