"""Transcriber: jobs stored before they run, run in worker processes, posted to the outbox.

Real worker processes and a real HTTP engine server (engine_server.py); the outbox is a list
(the durable outbox itself is tested in tests/effects)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from waiting import until

from plivoxml_fs import metrics
from plivoxml_fs.effects import transcriber as jobs
from plivoxml_fs.effects.transcriber import JobStore, Transcriber
from plivoxml_fs.effects.transcription import engines
from plivoxml_fs.errors import StateInUse
from plivoxml_fs.rooms.model import Transcribe
from transcription.engine_server import EngineServer

SPEECH = Path(__file__).resolve().parents[2] / "examples" / "speech"
KEY = "sk-test-3f9c1e7d"
WAIT_S = 60.0


class ListOutbox:
    def __init__(self) -> None:
        self.webhooks = []

    def emit(self, webhook) -> None:
        self.webhooks.append(webhook)


@pytest.fixture
def engine():
    server = EngineServer().start()
    yield server
    server.stop()


@pytest.fixture
def audio(tmp_path) -> Path:
    path = tmp_path / "rec" / "room_rec1.wav"
    path.parent.mkdir()
    shutil.copy(SPEECH / "s6.wav", path)
    return path


def job(path: Path, **changes) -> Transcribe:
    values = dict(path=str(path), url="http://app.example.com/tx", method="POST",
                  recording_id="rec1", call_uuid="call-1", duration_ms=2280)
    values.update(changes)
    return Transcribe(**values)


def http(server: EngineServer, **changes) -> engines.EngineConfig:
    return engines.EngineConfig(engine="http", url=server.url, model="whisper-tiny", key=KEY,
                                **changes)


def posted(outbox: ListOutbox, count: int = 1):
    until(f"{count} transcription callback(s)", lambda: len(outbox.webhooks) >= count, WAIT_S)
    return outbox.webhooks


def test_http_engine_gets_file_model_and_bearer_key_and_the_text_is_posted(engine, audio,
                                                                             tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=str(tmp_path / "jobs.sqlite3"), config=http(engine),
                         rate_per_minute=0.02)
    worker.start()
    try:
        worker.submit(job(audio))
        (hook,) = posted(outbox)
    finally:
        worker.stop()
    (request,) = engine.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/audio/transcriptions")
    assert request["authorization"] == f"Bearer {KEY}"
    assert request["form"]["model"] == "whisper-tiny"
    assert request["file_name"] == "room_rec1.wav"
    assert request["file"] == audio.read_bytes()
    assert (hook.url, hook.method, hook.kind, hook.call_uuid) == (
        "http://app.example.com/tx", "POST", "transcription", "call-1")
    assert dict(hook.params) == {
        "transcription": "hello from the engine", "transcription_charge": "0.02000",
        "transcription_rate": "0.02000", "duration": "2", "call_uuid": "call-1",
        "recording_id": "rec1", "error": ""}
    assert worker.pending == 0
    assert KEY not in caplog.text


def test_a_failing_engine_posts_the_callback_with_error_set(engine, audio, tmp_path, caplog):
    engine.reply = ("500 Internal Server Error", b"boom")
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=str(tmp_path / "jobs.sqlite3"), config=http(engine),
                         rate_per_minute=0.02)
    worker.start()
    try:
        worker.submit(job(audio))
        (hook,) = posted(outbox)
    finally:
        worker.stop()
    assert hook.params["error"] == f"POST {engine.url}: HTTP 500"
    assert hook.params["transcription"] == ""
    assert hook.params["transcription_charge"] == "0.00000"
    assert (hook.params["recording_id"], hook.params["call_uuid"]) == ("rec1", "call-1")
    assert "not transcribed: POST" in caplog.text
    assert KEY not in caplog.text


def test_an_engine_answering_no_text_posts_error(engine, audio, tmp_path):
    engine.reply = ("200 OK", b'{"segments": []}')
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=str(tmp_path / "j.sqlite3"), config=http(engine))
    worker.start()
    try:
        worker.submit(job(audio))
        (hook,) = posted(outbox)
    finally:
        worker.stop()
    assert hook.params["error"].endswith("the answer is not JSON with a text field")


def test_a_missing_recording_posts_error(tmp_path):
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=str(tmp_path / "j.sqlite3"))
    worker.start()
    try:
        worker.submit(job(tmp_path / "gone.wav"))
        (hook,) = posted(outbox)
    finally:
        worker.stop()
    assert hook.params["error"] == "recording file gone.wav not found"


def test_an_engine_over_its_time_limit_posts_error(engine, audio, tmp_path):
    engine.release.clear()  # the engine never answers
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=str(tmp_path / "j.sqlite3"), config=http(engine),
                         timeout_s=1.0)
    worker.start()
    try:
        worker.submit(job(audio))
        (hook,) = posted(outbox)
    finally:
        worker.stop()
    assert hook.params["error"] == "transcription took longer than 1 s"


def test_a_job_is_stored_before_it_runs_and_the_next_transcriber_runs_it(engine, audio,
                                                                          tmp_path):
    path = str(tmp_path / "jobs.sqlite3")
    first = Transcriber(ListOutbox(), path=path, config=http(engine))
    first.submit(job(audio))  # never started: as a daemon killed right after accepting it
    assert first.pending == 1
    outbox = ListOutbox()
    second = Transcriber(outbox, path=path, config=http(engine))
    second.start()
    try:
        (hook,) = posted(outbox)
    finally:
        second.stop()
    assert hook.params["transcription"] == "hello from the engine"
    assert second.pending == 0


def test_a_job_interrupted_too_often_is_given_up_with_error(audio, tmp_path):
    path = str(tmp_path / "jobs.sqlite3")
    store = JobStore(path)
    job_id = store.add(job(audio))
    for _ in range(jobs.MAX_ATTEMPTS):
        store.started(job_id)  # each: a daemon killed while the job ran
    store.close()
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=path)
    worker.start()
    try:
        (hook,) = posted(outbox)
    finally:
        worker.stop()
    assert hook.params["error"].startswith(f"transcription interrupted {jobs.MAX_ATTEMPTS} times")


def test_workers_are_bounded(engine, audio, tmp_path):
    """Two workers, three jobs: the engine sees two requests until one finishes."""
    engine.release.clear()
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=str(tmp_path / "j.sqlite3"), workers=2,
                         config=http(engine))
    worker.start()
    try:
        for n in range(3):
            worker.submit(job(audio, recording_id=f"rec{n}"))
        until("two engine requests", lambda: len(engine.requests) == 2, WAIT_S)
        assert len(engine.requests) == 2 and not outbox.webhooks
        engine.release.set()
        posted(outbox, 3)
    finally:
        worker.stop()
    assert sorted(h.params["recording_id"] for h in outbox.webhooks) == ["rec0", "rec1", "rec2"]


def test_the_start_says_which_engine_runs_or_that_it_is_missing(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    worker = Transcriber(ListOutbox(), path=str(tmp_path / "a.sqlite3"), workers=2)
    worker.start()
    worker.stop()
    assert "transcription: engine pocketsphinx, 2 worker process(es) at most" in caplog.text
    monkeypatch.setattr(engines, "missing", lambda name: f"the {name} engine needs pocketsphinx")
    worker = Transcriber(ListOutbox(), path=str(tmp_path / "b.sqlite3"))
    worker.start()
    worker.stop()
    (line,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert line.getMessage() == (
        "transcription: the pocketsphinx engine needs pocketsphinx: recordings that ask for a "
        "transcription get their callback with error set")


def test_a_second_transcriber_on_one_jobs_file_is_refused_until_the_first_stops(engine, audio,
                                                                                 tmp_path):
    """Both would queue the stored job and post it twice: the second start raises, names the
    file, and runs nothing; once the first has stopped (lock let go) it starts."""
    path = str(tmp_path / "jobs.sqlite3")
    first_box, second_box = ListOutbox(), ListOutbox()
    first = Transcriber(first_box, path=path, config=http(engine))
    first.start()
    second = Transcriber(second_box, path=path, config=http(engine))
    try:
        with pytest.raises(StateInUse, match=f"transcription jobs file {path} is in use by "
                           "another running daemon"):
            second.start()
        first.submit(job(audio))
        posted(first_box)
    finally:
        first.stop()
    second.start()
    second.stop()
    assert len(engine.requests) == 1 and not second_box.webhooks


def test_metrics_count_jobs_by_outcome_with_their_audio_and_cpu_seconds(tmp_path):
    """One job done (pocketsphinx on the 2.28 s sentence), one failed (no file): queued 2,
    done 1, failed 1, pending back to 0, 2.28 s of audio and some CPU for the done one."""
    names = {"queued": ("plivoxml_fs_transcription_jobs_total", {"outcome": "queued"}),
             "done": ("plivoxml_fs_transcription_jobs_total", {"outcome": "done"}),
             "failed": ("plivoxml_fs_transcription_jobs_total", {"outcome": "failed"}),
             "pending": ("plivoxml_fs_transcription_jobs_pending", {}),
             "audio": ("plivoxml_fs_transcription_audio_seconds_total", {}),
             "cpu": ("plivoxml_fs_transcription_cpu_seconds_total", {})}

    def values():
        return {key: metrics.REGISTRY.get_sample_value(name, labels) or 0.0
                for key, (name, labels) in names.items()}

    before = values()
    outbox = ListOutbox()
    worker = Transcriber(outbox, path=str(tmp_path / "jobs.sqlite3"))
    worker.start()
    try:
        worker.submit(job(SPEECH / "s6.wav", recording_id="ok"))
        worker.submit(job(tmp_path / "gone.wav", recording_id="gone"))
        assert values()["pending"] - before["pending"] == 2
        posted(outbox, 2)
        until("the last job's row to go", lambda: worker.pending == 0, WAIT_S)
    finally:
        worker.stop()
    change = {key: value - before[key] for key, value in values().items()}
    assert {key: change[key] for key in ("queued", "done", "failed", "pending")} == {
        "queued": 2, "done": 1, "failed": 1, "pending": 0}
    assert change["audio"] == pytest.approx(2.28)
    assert change["cpu"] > 0
