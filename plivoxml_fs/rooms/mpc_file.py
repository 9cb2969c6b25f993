"""One MPC recording file as the recording component (rooms/mpc_recording.py) follows it: its
id, path and URL, and the time it has recorded by the room's clock (paused spans left out)
until FreeSWITCH says the file's own length. Pure: no clock of its own."""

from __future__ import annotations

import attrs


@attrs.define
class File:
    """One recording: its id, file, URL, and the time it has recorded (our clock)."""

    recording_id: str
    path: str
    url: str
    fmt: str
    started_at: float | None = None
    since: float | None = None  # start of the span being recorded now (None: paused)
    recorded_s: float = 0.0
    ended_at: float | None = None
    fs_ms: int | None = None  # the file's length as FreeSWITCH reports it, once known

    def run(self, now: float) -> None:
        if self.started_at is None:
            self.started_at = now
        self.since = now

    def halt(self, now: float) -> None:
        if self.since is not None:
            self.recorded_s += max(0.0, now - self.since)
            self.since = None

    def duration(self, now: float) -> int:
        if self.fs_ms is not None:
            return round(self.fs_ms / 1000)
        running = max(0.0, now - self.since) if self.since is not None else 0.0
        return round(self.recorded_s + running)
