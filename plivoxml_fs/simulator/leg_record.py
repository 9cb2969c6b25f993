"""`uuid_record <uuid> start|stop <path|all> [<limit s>]`: recording one leg, as FreeSWITCH 1.10.12.

What is recorded (switch_ivr_record_session_event's media-bug flags, from channel variables or a
`{var=value}` recording_vars argument): by default what the channel receives and what it sends,
summed; RECORD_READ_ONLY=true what it receives (on a loopback A leg: what its B leg's caller
hears, e.g. a conference member's mix); RECORD_WRITE_ONLY=true what it sends; RECORD_STEREO=true
receives on the left, sends on the right (RECORD_STEREO_SWAP the other way). 16-bit WAV at the
channel's rate (8000). Replies and events as a running 1.10.12 gave them (checked with
tests/fs/): `+OK Success`; starting a path already recording is `+OK Success` and nothing new;
a path whose format is unknown is `-ERR Cannot record session!`; stopping a path not recording
(or `all` with none) `-ERR Cannot stop record session!`; an unknown uuid `-ERR Cannot locate
session!`. RECORD_START (channel data, Record-File-Path) fires once the recording runs;
RECORD_STOP (channel data with record_file_size, record_samples, record_seconds, record_ms and
record_completion_cause set before it, then Record-File-Path, Record-Completion-Cause) when it
is stopped (`success-maxtime`, also when the limit ends it: at the start of the epoch
second `limit` seconds after the one it started in) or when the channel hangs up
(`success-silence`, fired in CS_HANGUP). A recording that captured no frame (stopped within the
20 ms frame it started in) is discarded as 1.10.12 does: the file removed, RECORD_DISCARDED=true,
`empty-file` (record_file_size 44, the WAV header it had). `pause`/`resume` leave the paused
media time out of the file (1.10.12: 6 s recorded with 2 s paused gave a 4 s file, WAV and MP3
alike); `mask`/`unmask` answer as FreeSWITCH does but change nothing in the file. A `.mp3` path
is written as silent MP3 frames as long as the media time recorded (mod_shout's 8 kHz headers,
as room recordings, conference.silent_mp3): the length is right, the audio is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import gevent

from plivoxml_fs.simulator import channels as channels_module
from plivoxml_fs.simulator.api import api_command
from plivoxml_fs.simulator.audio import frame_ms, in_pieces, now_ms, received, sent, write_wav
from plivoxml_fs.simulator.bus import Calling
from plivoxml_fs.simulator.conference_recording import silent_mp3

if TYPE_CHECKING:
    from plivoxml_fs.simulator.channels import Channel
    from plivoxml_fs.simulator.server import EmbeddedFreeSwitch

USAGE = "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
RECORD_START = Calling("switch_ivr_async.c", "record_callback", 1481)
RECORD_STOP = Calling("switch_ivr_async.c", "send_record_stop_event", 1240)
#: File formats a leg recording can be written in here.
FORMATS = (".wav", ".mp3")
#: Sample rate of a loopback leg (L16 at 8 kHz both ways).
LEG_RATE = 8000
TRUE_WORDS = ("true", "yes", "on", "1", "enabled", "active", "allow")


class LegRecording:
    """One `uuid_record` in progress on one channel."""

    def __init__(self, channel: Channel, path: str, variables: dict[str, str]) -> None:
        self.channel, self.path, self.variables = channel, path, variables
        self.start_ms = frame_ms(now_ms(channel.sim))
        self.limit: gevent.Greenlet | None = None
        self.spans: list[list[int]] = [[self.start_ms, -1]]  # [start, end] media ms; -1: open

    @property
    def paused(self) -> bool:
        return self.spans[-1][1] != -1

    def pause(self) -> None:
        if not self.paused:
            self.spans[-1][1] = max(self.spans[-1][0], frame_ms(now_ms(self.channel.sim)))

    def resume(self) -> None:
        if self.paused:
            self.spans.append([frame_ms(now_ms(self.channel.sim)), -1])

    def _render(self, render, end_ms: int) -> list[int]:
        out: list[int] = []
        for start, stop in self.spans:
            out += in_pieces(render, start, end_ms if stop == -1 else stop, LEG_RATE,
                             gevent.sleep)
        return out

    def flag(self, name: str) -> bool:
        value = self.variables.get(name, self.channel.get_var(name))
        return (value or "").strip().lower() in TRUE_WORDS

    def write(self, end_ms: int) -> tuple[int, int]:
        """Render and write the file; (samples, size in bytes)."""
        channel = self.channel
        ms = sum((end_ms if stop == -1 else stop) - start for start, stop in self.spans)
        count = ms * LEG_RATE // 1000
        if Path(self.path).suffix.lower() == ".mp3":
            Path(self.path).write_bytes(silent_mp3(LEG_RATE, ms))
            return count, Path(self.path).stat().st_size
        heard = self._render(lambda lo, hi, rate: received(channel, lo, hi, rate), end_ms)
        if self.flag("RECORD_READ_ONLY"):
            tracks = [heard]
        else:
            said = self._render(lambda lo, hi, rate: sent(channel, lo, hi, rate), end_ms)
            if self.flag("RECORD_WRITE_ONLY"):
                tracks = [said]
            elif self.flag("RECORD_STEREO"):
                tracks = [heard, said]
            elif self.flag("RECORD_STEREO_SWAP"):
                tracks = [said, heard]
            else:
                tracks = [[a + b for a, b in zip(heard, said, strict=True)]]
        return count, write_wav(self.path, tracks, LEG_RATE)


@api_command("uuid_record")
def _uuid_record(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    parts = arg.split(" ", 4)
    if len(parts) < 3 or not all(parts[:3]):
        return USAGE
    uuid, action, path = parts[0], parts[1].lower(), parts[2]
    channel = sim.channels.get(uuid)
    if channel is None or not channel.is_up:
        return "-ERR Cannot locate session!\n"
    if action == "start":
        limit = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else 0
        return _start(channel, path, limit, _recording_vars(parts[4] if len(parts) > 4 else ""))
    if action == "stop":
        recordings = channel.audio.recordings
        chosen = list(recordings.values()) if path == "all" else (
            [recordings[path]] if path in recordings else [])
        if not chosen:
            return "-ERR Cannot stop record session!\n"
        end_ms = now_ms(sim)
        for recording in chosen:
            stop(recording, "success-maxtime", end_ms)
        return "+OK Success\n"
    if action in ("mask", "unmask", "pause", "resume"):
        recording = channel.audio.recordings.get(path)
        if recording is None:
            return f"-ERR Cannot {action} recording session!\n"
        if action == "pause":
            recording.pause()
        elif action == "resume":
            recording.resume()
        return "+OK Success\n"
    return USAGE


def _recording_vars(text: str) -> dict[str, str]:
    """`{a=b,c=d}` of uuid_record's last argument."""
    text = text.strip()
    if not (text.startswith("{") and "}" in text):
        return {}
    items = {}
    for item in text[1 : text.index("}")].split(","):
        name, _, value = item.partition("=")
        if name.strip():
            items[name.strip()] = value
    return items


def _start(channel: Channel, path: str, limit_s: int, variables: dict[str, str]) -> str:
    recordings = channel.audio.recordings
    if path in recordings:  # "Already recording": FreeSWITCH answers success and does nothing
        return "+OK Success\n"
    if Path(path).suffix.lower() not in FORMATS:
        return "-ERR Cannot record session!\n"
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).open("wb").close()
    except OSError:
        return "-ERR Cannot record session!\n"
    recording = LegRecording(channel, path, variables)
    recordings[path] = recording
    if limit_s > 0:
        # the media bug's stop time is whole epoch seconds (switch_epoch_time_now() + limit),
        # checked as frames are read: a limit of N s ends the recording N-1 to N s after it
        # started (1.10.12, a 1 s limit: 0.21 to 1.03 s over 120 runs)
        now = now_ms(channel.sim)
        until_ms = (now // 1000 + limit_s) * 1000 - now
        recording.limit = gevent.spawn_later(channel.sim.clock.wall_s(until_ms), stop,
                                             recording, "success-maxtime")
    gevent.spawn(_started, recording)  # after the api reply, as the media bug starts next frame
    return "+OK Success\n"


def _started(recording: LegRecording) -> None:
    channel = recording.channel
    if channel.audio.recordings.get(recording.path) is recording:
        channel.fire("RECORD_START", RECORD_START, [("Record-File-Path", recording.path)])


def stop(recording: LegRecording, cause: str, end_ms: int | None = None) -> None:
    """Close the recording at `end_ms` (media ms; default now): write the file, set record_*
    variables, fire RECORD_STOP."""
    channel = recording.channel
    if channel.audio.recordings.get(recording.path) is not recording:
        return
    del channel.audio.recordings[recording.path]
    if recording.limit is not None and recording.limit is not gevent.getcurrent():
        recording.limit.kill(block=False)
    try:
        samples, size = recording.write(frame_ms(now_ms(channel.sim) if end_ms is None
                                                 else end_ms))
    except OSError:
        samples, size = 0, 0
    discarded = []
    if samples == 0:  # no frame captured (stopped within the frame it started in): discarded
        Path(recording.path).unlink(missing_ok=True)
        cause, discarded = "empty-file", [("RECORD_DISCARDED", "true")]
    for name, value in (
        ("record_file_size", str(size)), *discarded, ("record_samples", str(samples)),
        ("record_seconds", str(samples // LEG_RATE)), ("record_ms", str(samples * 1000 // LEG_RATE)),
        ("record_completion_cause", cause),
    ):
        channel.set_var(name, value)
    channel.fire("RECORD_STOP", RECORD_STOP, [("Record-File-Path", recording.path),
                                              ("Record-Completion-Cause", cause)])


def _on_teardown(channel: Channel) -> None:
    # every recording of the leg ends at the hangup, however long writing the others takes
    end_ms = now_ms(channel.sim)
    for recording in list(channel.audio.recordings.values()):
        stop(recording, "success-silence", end_ms)


channels_module.TEARDOWN_HOOKS.append(_on_teardown)
