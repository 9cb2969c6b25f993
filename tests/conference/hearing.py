"""Who hears whom in a room, measured from audio, on the embedded or a real FreeSWITCH.

Every caller is a loopback call whose B leg is in the room and whose A leg stands for the
caller's phone. `measure` (plivoxml_fs/hearing.py, the same code `plivoxml-fs replay --hearing`
runs) gives each caller its own tone, records what each A leg receives and reads every tone's
level in every recording. Only API commands are used, so the same code drives both
FreeSWITCHes; the caller passes its `api` function. This module adds the shapes tests assert.
"""

from __future__ import annotations

from collections.abc import Sequence

from plivoxml_fs.hearing import SLACK_S, TONE_MS, Hearing, Party, measure, written

#: the name the recorder cases (tests/simulator/recorder_cases.py) import
_written = written
__all__ = ["SLACK_S", "TONE_MS", "Party", "_written", "everyone_but", "heard", "measure"]


def heard(hearing: Hearing, among: Sequence[str] | None = None) -> dict[str, set[str]]:
    """listener -> the other parties it hears (the shape tests assert); `among` limits the
    speakers to those names (leaving out extra tones such as music)."""
    return {name: {s for s in hearing.heard_by(name) if among is None or s in among}
            for name in hearing.levels}


def everyone_but(names: Sequence[str], *left_out: str) -> dict[str, set[str]]:
    """What an unrestricted room gives: each hears all the others (but `left_out`)."""
    return {n: {m for m in names if m != n and m not in left_out} for n in names}
