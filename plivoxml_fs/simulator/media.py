"""Media time and durations: how long each playback source lasts, and the clock that scales it.

Durations are media milliseconds. `MediaClock` turns them into wall time (`time_scale` < 1 runs
media faster than real time) and keeps a media-time "now" for event timestamps, so durations in
events and histories are the media ones whatever the scale.

Sources (`playback_pieces`): `silence_stream://<ms>` (negative = until hangup),
`tone_stream://%(on,off,hz...)` segments (`;loops=N`, -1 = forever), `local_stream://...`
(music on hold: until stopped), `tts://...` (not found: 1.10.12 has no tts:// file format;
mod_conference's `say:` and the `speak` app speak instead),
`file_string://a!b!c`, WAV files (duration from the `wave`
module), MP3 files (duration from the first frame's bit rate), `http(s)://` and
`http_cache://http(s)://` URLs fetched once into a cache directory. Relative paths are looked up
in `media_dir`. `speak_ms` estimates speech: 70 ms per character (measured on FreeSWITCH 1.10.12
with mod_flite: 45 characters took 3.13 s), at least 200 ms.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import wave
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import requests

#: Media milliseconds per character of text to speak (mod_flite measured at ~69.5).
SPEAK_MS_PER_CHAR = 70
#: Shortest speech, in media milliseconds.
SPEAK_MIN_MS = 200
#: Timeout for fetching a playback URL, in seconds.
FETCH_TIMEOUT_S = 10.0
#: Largest file fetched for playback, in bytes.
FETCH_MAX_BYTES = 50 * 1024 * 1024

BITS_PER_BYTE = 8
_MP3_BITRATES_KBPS = {
    # (MPEG version bits, layer bits) -> bitrate table index 1..14; only layer III tables
    3: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2
    0: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2.5
}


class MediaClock:
    """Media time: `now_us` advances 1/time_scale times as fast as the wall clock."""

    def __init__(self, time_scale: float) -> None:
        if not (isinstance(time_scale, int | float) and 0 < time_scale <= 100):
            raise ValueError(f"simulator time_scale: must be a number in (0, 100] (got {time_scale!r})")
        self.time_scale = float(time_scale)
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now_us(self) -> int:
        """Media time now, as microseconds since the epoch."""
        elapsed = (time.monotonic() - self._mono0) / self.time_scale
        return int((self._wall0 + elapsed) * 1_000_000)

    def wall_s(self, media_ms: float) -> float:
        """Wall seconds that `media_ms` of media take."""
        return max(0.0, media_ms) / 1000.0 * self.time_scale


@attrs.frozen
class Piece:
    """One source of a playback: its name, media length (None = until stopped), found or not,
    and the local file behind it (a file or a fetched URL), if any."""

    source: str
    ms: int | None
    found: bool = True
    path: Path | None = attrs.field(default=None, eq=False)


def speak_ms(text: str) -> int:
    """Estimated media length of speaking `text`."""
    return max(SPEAK_MIN_MS, SPEAK_MS_PER_CHAR * len(text.strip()))


class MediaLibrary:
    """Resolves playback arguments to pieces with durations; fetches URLs into a cache."""

    def __init__(self, media_dir: str | os.PathLike | None, cache_dir: str | os.PathLike) -> None:
        self.media_dir = Path(media_dir) if media_dir is not None else None
        self.cache_dir = Path(cache_dir)

    def pieces(self, arg: str) -> list[Piece]:
        """Every piece `playback <arg>` plays, in order."""
        if arg.startswith("file_string://"):
            return [self.piece(part) for part in arg[len("file_string://") :].split("!") if part]
        return [self.piece(arg)]

    def piece(self, source: str) -> Piece:
        if source.startswith("silence_stream://"):
            return Piece(source, _silence_ms(source[len("silence_stream://") :]))
        if source.startswith("tone_stream://"):
            return Piece(source, _tone_ms(source[len("tone_stream://") :]))
        if source.startswith("local_stream://"):
            return Piece(source, None)
        if source.startswith("tts://"):
            # mod_ssml's format, not loaded on 1.10.12: "Invalid file format [tts]"
            return Piece(source, 0, found=False)
        if source.startswith("http_cache://"):
            return self._url_piece(source, source[len("http_cache://") :])
        if source.startswith(("http://", "https://")):
            return self._url_piece(source, source)
        return self._file_piece(source, self._local_path(source))

    def _local_path(self, source: str) -> Path | None:
        if "://" in source:
            return None
        path = Path(source)
        if not path.is_absolute():
            if self.media_dir is None:
                return None
            path = self.media_dir / path
        return path

    def _url_piece(self, source: str, url: str) -> Piece:
        if not url.startswith(("http://", "https://")):
            return Piece(source, 0, found=False)
        return self._file_piece(source, self.fetch(url))

    def fetch(self, url: str) -> Path | None:
        """The cached copy of `url`, fetched on first use; None when it cannot be fetched."""
        suffix = Path(urlsplit(url).path).suffix.lower()[:8]
        target = self.cache_dir / (hashlib.sha1(url.encode()).hexdigest() + suffix)
        if target.exists():
            return target
        try:
            with requests.get(url, timeout=FETCH_TIMEOUT_S, stream=True) as reply:
                if reply.status_code != 200:
                    return None
                data = bytearray()
                for chunk in reply.iter_content(65536):
                    data += chunk
                    if len(data) > FETCH_MAX_BYTES:
                        return None
        except requests.RequestException:
            return None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + f".{os.getpid()}.part")
        partial.write_bytes(bytes(data))
        partial.replace(target)
        return target

    @staticmethod
    def _file_piece(source: str, path: Path | None) -> Piece:
        if path is None or not path.is_file():
            return Piece(source, 0, found=False)
        ms = file_ms(path)
        return Piece(source, 0, found=False) if ms is None else Piece(source, ms, path=path)


def file_ms(path: Path) -> int | None:
    """Length of an audio file in ms (WAV or MP3), None when it is neither."""
    try:
        with wave.open(str(path), "rb") as wav:
            return int(wav.getnframes() * 1000 / wav.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError):
        pass
    except OSError:
        return None
    return _mp3_ms(path)


def _mp3_ms(path: Path) -> int | None:
    data = path.read_bytes()
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        start = 10 + size
    for i in range(start, min(len(data) - 4, start + 4096)):
        if data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0:
            version = (data[i + 1] >> 3) & 0x03
            layer = (data[i + 1] >> 1) & 0x03
            index = data[i + 2] >> 4
            if layer != 1 or version not in _MP3_BITRATES_KBPS or not 1 <= index <= 14:
                continue
            kbps = _MP3_BITRATES_KBPS[version][index - 1]
            return int((len(data) - i) * BITS_PER_BYTE / kbps)  # bits / (kbit/s) = ms
    return None


def _silence_ms(spec: str) -> int | None:
    head = spec.split(",", 1)[0].strip()
    try:
        ms = int(head)
    except ValueError:
        return 0
    return None if ms < 0 else ms


_SEGMENT = re.compile(r"%\((\d+),(\d+)(?:,[^)]*)?\)")


def _tone_ms(spec: str) -> int | None:
    loops = 1
    match = re.search(r"(?:^|;)\s*(?:loops|l)=(-?\d+)", spec, re.IGNORECASE)
    if match:
        loops = int(match.group(1))
    once = sum(int(on) + int(off) for on, off in _SEGMENT.findall(spec))
    if loops < 0:
        return None if once else 0
    return once * max(loops, 1)
