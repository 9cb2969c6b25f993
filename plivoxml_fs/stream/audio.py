"""Audio between FreeSWITCH's unicast frames (L16, 8000 Hz, 20 ms) and the stream's content
type: L16 at 8000 or 16000 Hz, or G.711 µ-law at 8000 Hz. Plain Python, no I/O.

Resampling is deliberately simple (speech band, 20 ms frames): 8 -> 16 kHz doubles each sample
pair by linear interpolation, 16 -> 8 kHz averages each pair. µ-law is G.711's (the segment
encoder with bias 0x84, as in the ITU reference and Sun's g711.c).

Per frame the loops run in C (array slices, `map` over tables and operators), no Python loop
per sample: a 20 ms frame's 8 -> 16 kHz and 16 -> 8 kHz take a half to a third of the plain
loops' time, µ-law decode a half (the same samples: tests/aiagent/test_hot_path.py).
"""

from __future__ import annotations

import functools
import operator
import sys
from array import array
from itertools import repeat

#: FreeSWITCH's side: L16 at 8000 Hz, 20 ms frames.
FS_RATE = 8000
FRAME_MS = 20
FS_FRAME_BYTES = FS_RATE * FRAME_MS // 1000 * 2

L16 = "audio/x-l16"
MULAW = "audio/x-mulaw"
#: (encoding, rate) pairs the stream may carry.
FORMATS = {(L16, 8000), (L16, 16000), (MULAW, 8000)}

_BIAS = 0x84
_CLIP = 32635


def _mulaw_encode_sample(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample, _CLIP) + _BIAS
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _mulaw_decode_byte(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    sample = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return -sample if sign else sample


_ENCODE = bytes(_mulaw_encode_sample(s) for s in range(-32768, 32768))
#: the same table indexed by the sample's 16 bits read unsigned (array "H")
_ENCODE_U = _ENCODE[32768:] + _ENCODE[:32768]
_DECODE = [_mulaw_decode_byte(b) for b in range(256)]


def samples(pcm: bytes) -> array:
    """16-bit little-endian PCM -> samples."""
    out = array("h")
    out.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder != "little":
        out.byteswap()
    return out


def pcm(values) -> bytes:
    """Samples -> 16-bit little-endian PCM (clipped)."""
    out = array("h", [32767 if v > 32767 else -32768 if v < -32768 else int(v) for v in values])
    if sys.byteorder != "little":
        out.byteswap()
    return out.tobytes()


def _native(pcm_bytes: bytes, code: str) -> array:
    out = array(code)
    out.frombytes(pcm_bytes[: len(pcm_bytes) // 2 * 2])
    if sys.byteorder != "little":
        out.byteswap()
    return out


def _little(values: array) -> bytes:
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def mulaw_encode(pcm_bytes: bytes) -> bytes:
    return bytes(map(_ENCODE_U.__getitem__, _native(pcm_bytes, "H")))


def mulaw_decode(data: bytes) -> bytes:
    return _little(array("h", map(_DECODE.__getitem__, data)))


def _upsampled(values: array) -> array:
    """8 -> 16 kHz: each sample, then the mean of it and the next (the last: itself)."""
    n = len(values)
    out = array("h", bytes(4 * n))
    if n:
        out[0::2] = values
        nxt = values[1:]
        nxt.append(values[-1])
        out[1::2] = array("h", map(operator.rshift, map(operator.add, values, nxt), repeat(1)))
    return out


def _downsampled(values: array) -> array:
    """16 -> 8 kHz: the mean of each pair (an odd last sample dropped)."""
    evens, odds = values[0::2], values[1::2]
    return array("h", map(operator.rshift, map(operator.add, evens, odds), repeat(1)))


def upsample(values) -> list[int]:
    """8 -> 16 kHz: each sample, then the mean of it and the next."""
    return list(_upsampled(array("h", values)))


def downsample(values) -> list[int]:
    """16 -> 8 kHz: the mean of each pair."""
    return list(_downsampled(array("h", values)))


@functools.lru_cache(maxsize=64)  # once a playAudio: a service uses one or two
def parse_content_type(text: str) -> tuple[str, int]:
    """`audio/x-l16;rate=16000` -> (audio/x-l16, 16000); ValueError for what the stream cannot
    carry."""
    encoding, _, rest = text.partition(";")
    encoding = encoding.strip().lower()
    rate = 8000
    for item in rest.split(";"):
        name, _, value = item.partition("=")
        if name.strip().lower() == "rate":
            rate = int(value.strip())
    if (encoding, rate) not in FORMATS:
        raise ValueError(f"content type {text!r}: must be audio/x-l16 at 8000 or 16000 Hz or "
                         "audio/x-mulaw at 8000 Hz")
    return encoding, rate


def to_service(frame: bytes, encoding: str, rate: int) -> bytes:
    """One FreeSWITCH frame (L16 8 kHz) in the stream's format."""
    if encoding == MULAW:
        return mulaw_encode(frame)
    if rate == 16000:
        return _little(_upsampled(samples(frame)))
    return frame


def from_service(payload: bytes, encoding: str, rate: int) -> bytes:
    """Audio the service sent, as L16 8 kHz for FreeSWITCH."""
    if encoding == MULAW:
        return mulaw_decode(payload)
    if rate == 16000:
        return _little(_downsampled(samples(payload)))
    return payload[: len(payload) // 2 * 2]
