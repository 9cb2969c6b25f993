"""Speech-to-text engines: what one transcription job runs, inside a worker process.

- `pocketsphinx` (the default): offline, CMU PocketSphinx 5 with the US English model its wheel
  ships; nothing is downloaded at run time.
- `http`: an OpenAI-compatible `POST <url>` (`/v1/audio/transcriptions`: multipart `file` and
  `model`, the key as `Authorization: Bearer`), which whisper.cpp's server, faster-whisper
  servers and hosted services answer with `{"text": ...}`.

Audio is decoded with miniaudio (WAV and MP3, the two recordFileFormat values) to 16 kHz mono
16-bit, the rate the PocketSphinx model was trained at (8 kHz calls are resampled up).
Engines raise `EngineError` with a one-line reason; the reason never holds the key.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import attrs

from plivoxml_fs.effects.urls import shown_url

#: Engine names (`transcription_engine`).
ENGINES = ("pocketsphinx", "http")
#: The decoded audio's rate: PocketSphinx's en-us model is a 16 kHz model. 8 kHz calls are
#: resampled up rather than decoded at samprate 8000 with the filterbank narrowed to 4 kHz
#: (upperf 3500-4000, nfft 256): that feeds the model cepstra it was not trained on, and the
#: bench's WER went from 23% to 79-93% (docs/transcription.md, "Accuracy, measured").
RATE = 16000
#: An HTTP engine's answer larger than this is refused (a transcript is text).
MAX_ANSWER_BYTES = 1024 * 1024


class EngineError(Exception):
    """A job that could not be transcribed; str() is the callback's `error`."""


@attrs.frozen
class EngineConfig:
    """What a worker needs to run an engine (the key travels apart: never in argv or logs)."""

    engine: str = "pocketsphinx"
    url: str = ""
    model: str = "whisper-1"
    timeout_s: float = 300.0
    key: str = attrs.field(default="", repr=False)


def missing(engine: str) -> str | None:
    """Why `engine` cannot run on this machine (a package not installed), or None."""
    needs = {"pocketsphinx": ("pocketsphinx", "miniaudio"), "http": ()}.get(engine)
    if needs is None:
        return f"unknown transcription engine {engine!r} (one of {', '.join(ENGINES)})"
    gone = [name for name in needs if importlib.util.find_spec(name) is None]
    if gone:
        return (f"the {engine} engine needs the Python package(s) {', '.join(gone)}, which are "
                "not installed (pip install plivoxml-fs installs them)")
    return None


def decode(path: str) -> tuple[bytes, float]:
    """The file's audio as 16 kHz mono 16-bit little-endian PCM, and its length in seconds."""
    try:
        import miniaudio
    except ImportError:
        raise EngineError("cannot decode audio: the miniaudio package is not installed") from None
    if not Path(path).is_file():
        raise EngineError(f"recording file {Path(path).name} not found")
    try:
        sound = miniaudio.decode_file(path, output_format=miniaudio.SampleFormat.SIGNED16,
                                      nchannels=1, sample_rate=RATE)
    except miniaudio.DecodeError as exc:
        raise EngineError(f"recording file {Path(path).name} could not be decoded: {exc}") from None
    pcm = sound.samples.tobytes()
    return pcm, len(pcm) / 2 / RATE


#: Longest piece decoded as one utterance, and how far back from its end a cut is looked for.
PIECE_S, CUT_WINDOW_S = 20.0, 5.0
#: Silence around each piece: the decoder does best when speech does not touch the edges.
PAD = b"\0\0" * (RATE // 2)


def pieces(pcm: bytes) -> list[bytes]:
    """`pcm` cut into pieces of at most PIECE_S, each cut at the quietest 30 ms of the last
    CUT_WINDOW_S before the limit (between words, as a rule)."""
    frame = 2 * RATE * 3 // 100
    limit, window = int(PIECE_S * RATE) * 2, int(CUT_WINDOW_S * RATE) * 2
    out: list[bytes] = []
    while len(pcm) > limit:
        first = limit - window
        cut = min(range(first, limit - frame + 1, frame),
                  key=lambda at: _energy(pcm[at:at + frame]))
        out.append(pcm[:cut])
        pcm = pcm[cut:]
    return [*out, pcm] if pcm else out


#: A piece none of whose 30 ms frames is louder than this (mean absolute sample, about -50
#: dBFS) is silence: not decoded (the decoder would make words up out of nothing).
SILENCE_LEVEL = 100


def _loud_frames(pcm: bytes) -> list[int]:
    frame = 2 * RATE * 3 // 100
    return [at for at in range(0, len(pcm) - frame + 1, frame)
            if _energy(pcm[at:at + frame]) > SILENCE_LEVEL * (frame // 8)]


def audible(pcm: bytes) -> bool:
    return bool(_loud_frames(pcm))


#: Silence kept before the first and after the last audible frame of a piece.
MARGIN_S = 0.3


def trimmed(pcm: bytes) -> bytes:
    """The piece from MARGIN_S before its first audible 30 ms to MARGIN_S after its last: the
    decoder's cepstral mean follows the speech, not how much silence the room recorded."""
    loud = _loud_frames(pcm)
    if not loud:
        return b""
    margin = int(MARGIN_S * RATE) * 2
    frame = 2 * RATE * 3 // 100
    return pcm[max(0, loud[0] - margin):loud[-1] + frame + margin]


def _energy(chunk: bytes) -> int:
    samples = memoryview(chunk).cast("h")
    return sum(abs(x) for x in samples[::4])


def pocketsphinx_text(pcm: bytes) -> str:
    """PocketSphinx's best hypothesis for 16 kHz mono PCM ("" for silence), a piece (see
    `pieces`) at a time: a long recording is never held as one utterance."""
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise EngineError("the pocketsphinx engine is not installed") from None
    decoder = Decoder(samprate=RATE, loglevel="FATAL")
    texts = []
    for piece in pieces(pcm):
        speech = trimmed(piece)
        if not speech:
            continue
        decoder.start_utt()
        decoder.process_raw(PAD + speech + PAD, full_utt=True)
        decoder.end_utt()
        texts.append(_hyp(decoder))
    return " ".join(t for t in texts if t)


def _hyp(decoder) -> str:
    hyp = decoder.hyp()
    return hyp.hypstr.strip() if hyp is not None else ""


def http_text(path: str, config: EngineConfig) -> str:
    """The text an OpenAI-compatible transcription endpoint gives for the file."""
    import requests

    if not config.url:
        raise EngineError("transcription_http_url is not set")
    name = Path(path).name
    if not Path(path).is_file():
        raise EngineError(f"recording file {name} not found")
    headers = {"Authorization": f"Bearer {config.key}"} if config.key else {}
    kind = "audio/mpeg" if name.endswith(".mp3") else "audio/wav"
    where = shown_url(config.url)
    try:
        with open(path, "rb") as audio:
            reply = requests.post(config.url, headers=headers, timeout=config.timeout_s,
                                  data={"model": config.model, "response_format": "json"},
                                  files={"file": (name, audio, kind)})
    except requests.RequestException as exc:
        raise EngineError(f"POST {where}: {type(exc).__name__}") from None
    if reply.status_code != 200:
        raise EngineError(f"POST {where}: HTTP {reply.status_code}")
    if len(reply.content) > MAX_ANSWER_BYTES:
        raise EngineError(f"POST {where}: answer larger than {MAX_ANSWER_BYTES} bytes")
    try:
        text = json.loads(reply.content)["text"]
    except (ValueError, KeyError, TypeError):
        raise EngineError(f"POST {where}: the answer is not JSON with a text field") from None
    if not isinstance(text, str):
        raise EngineError(f"POST {where}: the answer's text is not a string")
    return " ".join(text.split())


def transcribe(path: str, config: EngineConfig) -> str:
    """The text of the recording at `path` by the configured engine (EngineError on failure)."""
    problem = missing(config.engine)
    if problem:
        raise EngineError(problem)
    if config.engine == "http":
        return http_text(path, config)
    pcm, _ = decode(path)
    return pocketsphinx_text(pcm)
