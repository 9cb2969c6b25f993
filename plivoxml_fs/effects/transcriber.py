"""Transcription jobs: stored before they run, run in worker processes, posted by the outbox.

`Transcriber.submit(job)` (a rooms.model.Transcribe) writes one SQLite row and returns: the
call's greenlet never waits for an engine. `workers` greenlets take jobs in order; each runs
the job in a child process (`python -m plivoxml_fs.effects.transcription.worker`, niced) and waits for
it cooperatively (gevent.subprocess). Processes, not threads: engines are CPU-bound C code that
may hold the GIL (a thread would stall every call's greenlet) and may crash (a process's
crash is one job's error, not the daemon's). The result (or the failure, in `error`) goes to
the job's URL through the durable outbox; the row is deleted after the outbox has stored the
callback. A job a SIGKILL interrupted is run again at the next start, at most `MAX_ATTEMPTS`
times in all (then its callback says so). A crash between the outbox's insert and the row's
delete posts the callback twice (at least once, never lost). One process runs the jobs of one
file: `start` holds `<jobs file>.lock` until `stop` and refuses (StateInUse) while another
process holds it. Metrics: `transcription_jobs{outcome}`, `transcription_jobs_pending`, and the
audio and CPU seconds of the jobs done (metrics.py).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import gevent
import gevent.queue
from gevent import subprocess

from plivoxml_fs import metrics
from plivoxml_fs.effects.store import open_sqlite, try_lock
from plivoxml_fs.effects.transcription import engines
from plivoxml_fs.effects.transcription.worker import KEY_VARIABLE
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import PlivoXMLError, StateInUse
from plivoxml_fs.rooms.model import Transcribe

log = logging.getLogger("plivoxml_fs.effects.transcription")

#: Runs of one job (a daemon killed while it ran counts one) before its callback says error.
MAX_ATTEMPTS = 3
#: The worker processes' niceness: calls' own work comes first.
NICE = 10
KIND = "transcription"
SCHEMA = """CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL)"""


def job_path(settings: Any) -> str:
    """`transcription_path`, else `<state_dir>/transcriptions.sqlite3`."""
    return settings.transcription_path or str(Path(settings.state_dir) / "transcriptions.sqlite3")


class JobStore:
    """The jobs table: rows are jobs not yet posted (`attempts`: runs started)."""

    def __init__(self, path: str) -> None:
        self.path = path
        # FULL: a job's row must outlive a power cut, as the recording it names does
        self._db = open_sqlite(path, synchronous="FULL", busy_timeout_s=5.0)
        self._db.execute(SCHEMA)

    def add(self, job: Transcribe) -> int:
        cursor = self._db.execute("INSERT INTO jobs (job, created) VALUES (?, ?)",
                                  (json.dumps(attrs.asdict(job)), time.time()))
        return int(cursor.lastrowid)

    def started(self, job_id: int) -> None:
        self._db.execute("UPDATE jobs SET attempts = attempts + 1 WHERE id = ?", (job_id,))

    def done(self, job_id: int) -> None:
        self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def get(self, job_id: int) -> tuple[Transcribe, int] | None:
        row = self._db.execute("SELECT job, attempts FROM jobs WHERE id = ?",
                               (job_id,)).fetchone()
        return None if row is None else (Transcribe(**json.loads(row[0])), int(row[1]))

    def ids(self) -> list[int]:
        return [int(r[0]) for r in self._db.execute("SELECT id FROM jobs ORDER BY id")]

    def close(self) -> None:
        self._db.close()


@attrs.frozen
class Result:
    text: str = ""
    error: str = ""
    cpu_s: float = 0.0


class Transcriber:
    """The bounded pool of transcription workers (see the module's docstring)."""

    def __init__(self, outbox: Any, *, path: str = ":memory:", workers: int = 1,
                 timeout_s: float = 600.0, config: engines.EngineConfig | None = None,
                 rate_per_minute: float = 0.0) -> None:
        self.outbox = outbox
        self.path = path
        self.workers = workers
        self.timeout_s = timeout_s
        self.config = config or engines.EngineConfig()
        self.rate = rate_per_minute
        self.store = self._open(path)
        self._queue: gevent.queue.Queue[int] = gevent.queue.Queue()
        self._greenlets: list[gevent.Greenlet] = []
        self._children: set[Any] = set()
        self._started = False
        self._lock: Any = None
        self._counted = 0  # jobs this process counts in transcription_jobs_pending

    @classmethod
    def from_settings(cls, settings: Any, outbox: Any) -> Transcriber:
        config = engines.EngineConfig(
            engine=settings.transcription_engine, url=settings.transcription_http_url,
            model=settings.transcription_http_model, key=settings.transcription_http_key,
            timeout_s=settings.transcription_timeout_s)
        return cls(outbox, path=job_path(settings), workers=settings.transcription_workers,
                   timeout_s=settings.transcription_timeout_s, config=config,
                   rate_per_minute=settings.transcription_rate_per_minute)

    @staticmethod
    def _open(path: str) -> JobStore:
        try:
            return JobStore(path)
        except (OSError, sqlite3.Error) as exc:
            log.error("transcription jobs file %s would not open (%s): jobs are kept in memory "
                      "and a restart loses those not done", path, exc)
            return JobStore(":memory:")

    @property
    def pending(self) -> int:
        """Jobs stored and not posted yet."""
        return len(self.store.ids())

    def start(self) -> None:
        """Hold the jobs file's lock, queue the jobs an earlier process left, then start the
        workers. StateInUse when another running process holds the lock: two daemons on one
        state dir would both run (and post) every job."""
        if self._started:
            return
        if self.store.path != ":memory:":
            self._lock = try_lock(self.store.path)
            if self._lock is None:
                raise StateInUse(
                    f"transcription jobs file {self.store.path} is in use by another running "
                    f"daemon ({self.store.path}.lock is locked): not starting, so that no job "
                    "runs twice; give each daemon its own state_dir (or transcription_path)")
        self._started = True
        problem = engines.missing(self.config.engine)
        if problem:
            log.error("transcription: %s: recordings that ask for a transcription get their "
                      "callback with error set", problem)
        else:
            log.info("transcription: engine %s, %d worker process(es) at most", self.config.engine,
                     self.workers)
        left = self.store.ids()
        if left:
            log.info("transcription: %d job(s) left by an earlier process, queued again",
                     len(left))
        for job_id in left:
            self._queue.put(job_id)
        self._count_queued(len(left))
        self._greenlets = [gevent.spawn(self._work) for _ in range(self.workers)]

    def submit(self, job: Transcribe) -> None:
        """Store the job, then queue it (returns at once; never raises)."""
        try:
            job_id = self.store.add(job)
        except sqlite3.Error as exc:
            log.error("call %s: recording %s not transcribed: the job could not be stored: %s",
                      job.call_uuid, job.recording_id, exc, extra={"call_uuid": job.call_uuid})
            self._post(job, Result(error=f"the transcription job could not be stored: {exc}"))
            return
        log.info("call %s: recording %s queued for transcription", job.call_uuid,
                 job.recording_id, extra={"call_uuid": job.call_uuid})
        self._count_queued(1)
        self._queue.put(job_id)

    def _count_queued(self, jobs: int) -> None:
        metrics.transcription_jobs.labels("queued").inc(jobs)
        metrics.transcription_pending.inc(jobs)
        self._counted += jobs

    def stop(self, timeout: float = 0.0) -> None:
        """Stop the workers; a job running now is killed and stays stored for the next start."""
        for child in list(self._children):
            if child.poll() is None:
                child.kill()
        gevent.killall(self._greenlets, timeout=timeout or None)
        self._greenlets = []
        self._started = False
        metrics.transcription_pending.dec(self._counted)  # the next process counts them
        self._counted = 0
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- the workers ------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                self._run(job_id)
            except gevent.GreenletExit:
                raise
            except Exception:  # a bug here must not end the worker
                log.exception("transcription job %d failed", job_id)

    def _run(self, job_id: int) -> None:
        found = self.store.get(job_id)
        if found is None:  # queued twice (submitted before `start` queued the rows): done
            self._uncount()
            return
        job, attempts = found
        if attempts >= MAX_ATTEMPTS:
            result = Result(error=f"transcription interrupted {attempts} times (the daemon "
                                  "stopped while it ran); given up")
        else:
            self.store.started(job_id)
            result = self._execute(job)
        self._post(job, result)
        self.store.done(job_id)
        self._uncount()

    def _uncount(self) -> None:
        if self._counted:
            self._counted -= 1
            metrics.transcription_pending.dec()

    def _execute(self, job: Transcribe) -> Result:
        request = {"path": job.path, **attrs.asdict(self.config)}
        request.pop("key")
        env = {**os.environ, KEY_VARIABLE: self.config.key}
        try:
            child = subprocess.Popen([sys.executable, "-m", "plivoxml_fs.effects.transcription.worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env,
                                     preexec_fn=lambda: os.nice(NICE))
        except OSError as exc:
            return Result(error=f"the transcription worker could not start: {exc.strerror}")
        self._children.add(child)
        try:
            out, err = child.communicate(json.dumps(request).encode(), timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return Result(error=f"transcription took longer than {self.timeout_s:g} s")
        finally:
            self._children.discard(child)
        try:
            answer = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError, UnicodeDecodeError):
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
            return Result(error=f"the transcription worker failed (exit {child.returncode}): "
                                f"{tail[0][:200]}")
        if answer.get("error"):
            return Result(error=str(answer["error"]))
        return Result(text=str(answer.get("text", "")), cpu_s=float(answer.get("cpu_s", 0.0)))

    def _post(self, job: Transcribe, result: Result) -> None:
        seconds = job.duration_ms / 1000
        charge = self.rate * math.ceil(seconds / 60) if not result.error else 0.0
        params = {
            "transcription": result.text, "transcription_charge": f"{charge:.5f}",
            "transcription_rate": f"{self.rate:.5f}", "duration": str(round(seconds)),
            "call_uuid": job.call_uuid, "recording_id": job.recording_id,
            "error": result.error,
        }
        extra = {"call_uuid": job.call_uuid}
        metrics.transcription_jobs.labels("failed" if result.error else "done").inc()
        if not result.error:
            metrics.transcription_audio.inc(seconds)
            metrics.transcription_cpu.inc(result.cpu_s)
        if result.error:
            log.warning("call %s: recording %s not transcribed: %s", job.call_uuid,
                        job.recording_id, result.error, extra=extra)
        else:
            log.info("call %s: recording %s transcribed (%d words, %.2f s CPU)", job.call_uuid,
                     job.recording_id, len(result.text.split()), result.cpu_s, extra=extra)
        try:
            self.outbox.emit(Webhook(job.url, job.method, params, job.call_uuid, KIND,
                                     order_key=job.order_key or f"transcription-{job.recording_id}"))
        except (ValueError, PlivoXMLError) as exc:
            log.error("call %s: transcription callback to %s not sent: %s", job.call_uuid,
                      shown_url(job.url), exc, extra=extra)
