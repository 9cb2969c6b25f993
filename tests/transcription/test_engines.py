"""The engines themselves (in this process): pocketsphinx on real speech, decoding, errors."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from plivoxml_fs.effects.transcription import engines

SPEECH = Path(__file__).resolve().parents[2] / "examples" / "speech"


def test_pocketsphinx_hears_flites_sentence():
    text = engines.transcribe(str(SPEECH / "s6.wav"), engines.EngineConfig())
    assert {"quick", "brown", "fox"} <= set(text.split()), text


@pytest.mark.parametrize(("name", "words"), [
    ("s1.wav", "please call me back after the meeting"),
    ("s4.wav", "we need to finish the report before friday"),
])
def test_a_whole_sentence_comes_back_word_for_word_to_its_last_word(name, words):
    """The kept sentences are spoken whole: the last word is in the file and is heard (the
    WAVs kept before were cut short, losing it). One of each voice, slt and kal16."""
    assert engines.transcribe(str(SPEECH / name), engines.EngineConfig()) == words


def test_silence_is_an_empty_transcription(tmp_path):
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 16000)
    assert engines.transcribe(str(path), engines.EngineConfig()) == ""


def test_decode_gives_16_khz_mono_whatever_the_file():
    pcm, seconds = engines.decode(str(SPEECH / "s6.wav"))
    with wave.open(str(SPEECH / "s6.wav")) as source:
        expected = source.getnframes() / source.getframerate()
    assert abs(seconds - expected) < 0.01
    assert len(pcm) == round(seconds * engines.RATE) * 2


def test_a_file_that_is_no_audio_is_a_clear_error(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"not audio at all" * 10)
    with pytest.raises(engines.EngineError, match="x.wav could not be decoded"):
        engines.transcribe(str(path), engines.EngineConfig())


def test_long_audio_is_cut_into_pieces_between_words():
    pcm, _ = engines.decode(str(SPEECH / "s6.wav"))
    long = (pcm + b"\0\0" * 8000) * 20  # ~55 s, a sentence every 2.8 s
    pieces = engines.pieces(long)
    assert b"".join(pieces) == long
    assert all(len(p) <= engines.PIECE_S * engines.RATE * 2 for p in pieces)
    assert len(pieces) >= 3
    # each cut is at a quiet 30 ms (between the sentences here), never inside a word
    assert all(not engines.audible(p[:2 * engines.RATE * 3 // 100]) for p in pieces[1:])


def test_unknown_and_missing_engines_are_named():
    assert "unknown transcription engine 'vosk'" in engines.missing("vosk")
    assert engines.missing("pocketsphinx") is None
    assert engines.missing("http") is None


def test_http_engine_without_url_is_an_error(tmp_path):
    with pytest.raises(engines.EngineError, match="transcription_http_url is not set"):
        engines.transcribe(str(SPEECH / "s6.wav"), engines.EngineConfig(engine="http"))


def test_the_key_is_not_in_the_config_repr():
    assert "sk-1" not in repr(engines.EngineConfig(key="sk-1"))
