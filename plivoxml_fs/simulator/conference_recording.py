"""Recordings of the embedded FreeSWITCH's conference rooms (`conference <room> recording`).

`Recording`: the room's mix over the recorded spans (pauses left out), written as WAV, or as
silent MP3 frames of the right length (`silent_mp3`, mod_shout's frame headers).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import gevent

from plivoxml_fs.simulator.audio import frame_ms, in_pieces, now_ms, write_wav

if TYPE_CHECKING:
    from plivoxml_fs.simulator.conference import Room


class Recording:
    """A recording of the room's mix (what the room's recorder hears, see mixer.py), as long as
    the media time recorded, pauses left out."""

    def __init__(self, room: Room, path: str) -> None:
        self.room, self.path = room, path
        self.started_us = room.sim.clock.now_us()
        self.paused_since: int | None = None
        self.paused_us = 0
        # [start, end] ms; -1: open. Spans start on the room's 20 ms frames: mod_conference's
        # recorder writes the mixer's whole frames, so a member's frames are whole in the file
        self.spans: list[list[int]] = [[frame_ms(self.started_us // 1000), -1]]

    def elapsed_ms(self) -> int:
        now = self.room.sim.clock.now_us()
        paused = self.paused_us + (now - self.paused_since if self.paused_since else 0)
        return max(0, now - self.started_us - paused) // 1000

    def pause(self) -> None:
        if self.paused_since is None:
            self.paused_since = self.room.sim.clock.now_us()
            self.spans[-1][1] = self.paused_since // 1000

    def resume(self) -> None:
        if self.paused_since is not None:
            now = self.room.sim.clock.now_us()
            self.paused_us += now - self.paused_since
            self.paused_since = None
            self.spans.append([frame_ms(now // 1000), -1])

    def mix(self, rate: int, samples: int) -> list[int]:
        """The room's mix over the recorded spans: exactly `samples` samples."""
        end = now_ms(self.room.sim)
        out: list[int] = []
        for start, stop in self.spans:
            stop = end if stop == -1 else stop
            out += in_pieces(lambda lo, hi, r: self.room.mixer.render_for(None, lo, hi, r),
                             start, stop, rate, gevent.sleep)
        return (out + [0] * samples)[:samples]

    def write(self) -> tuple[int, int]:
        """Write the file (WAV, or MP3 for a .mp3 path); (samples, ms)."""
        ms = self.elapsed_ms()
        rate = self.room.profile.rate
        samples = ms * rate // 1000
        if Path(self.path).suffix.lower() == ".mp3":
            Path(self.path).write_bytes(silent_mp3(rate, ms))
            return samples, ms
        write_wav(self.path, [self.mix(rate, samples)], rate)
        return samples, ms


#: MP3 frame headers mod_shout (LAME) wrote on FreeSWITCH 1.10.12 for a mono room: 8 kHz is
#: MPEG-2.5 layer III 16 kbps, 16 kHz is MPEG-2 layer III 32 kbps; 144 bytes a frame either way.
MP3_HEADERS = {8000: bytes.fromhex("ffe328c4"), 16000: bytes.fromhex("fff348c4")}
MP3_FRAME_BYTES = 144
MP3_FRAME_SAMPLES = 576


def silent_mp3(rate: int, ms: int) -> bytes:
    """`ms` of silence as MP3 frames whose side information is all zero (no audio data),
    which decoders play as silence; as long as the media time, rounded up to a frame."""
    header = MP3_HEADERS[rate]
    frame = header + bytes(MP3_FRAME_BYTES - len(header))
    frames = -(-ms * rate // 1000 // MP3_FRAME_SAMPLES) if ms else 0
    return frame * frames
