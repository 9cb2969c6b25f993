"""The daemon's Prometheus metrics: module-level objects, one per measured thing.

The parts that do the work update these (transport: reconnects and command latency; driver:
calls and verbs; fetcher: fetch latency; outbox: depth, deliveries and whether it is durable; transcriber: jobs
and the audio and CPU seconds they took). `api/http.py` exposes
them on /metrics. All live in one registry of their own (`REGISTRY`), so an importing program's
default registry is left alone. Names carry the `plivoxml_fs_` prefix.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
_PREFIX = "plivoxml_fs"

#: Seconds buckets for ESL commands and document fetches (1 ms .. 10 s).
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

calls_active = Gauge("calls_active", "Calls being run now", namespace=_PREFIX, registry=REGISTRY)
calls_total = Counter(
    "calls", "Calls received on the outbound socket", namespace=_PREFIX, registry=REGISTRY
)
verbs = Counter(
    "verbs",
    "Verbs run, by verb and outcome (next, goto, hangupcall, gone, error)",
    ("verb", "outcome"),
    namespace=_PREFIX,
    registry=REGISTRY,
)
esl_reconnects = Counter(
    "esl_reconnects",
    "Times the inbound ESL connection was lost and re-opening began",
    namespace=_PREFIX,
    registry=REGISTRY,
)
command_latency = Histogram(
    "command_latency_seconds",
    "ESL command round trip (sent to reply), by command kind (first word)",
    ("command",),
    namespace=_PREFIX,
    registry=REGISTRY,
    buckets=LATENCY_BUCKETS_S,
)
outbox_depth = Gauge(
    "outbox_depth", "Callbacks waiting to be delivered", namespace=_PREFIX, registry=REGISTRY
)
outbox_durable = Gauge(
    "outbox_durable",
    "1 while callbacks are written to the outbox file, 0 while they are kept in memory only",
    namespace=_PREFIX,
    registry=REGISTRY,
)
callbacks_delivered = Counter(
    "callbacks_delivered", "Callbacks the receiver accepted", namespace=_PREFIX, registry=REGISTRY
)
callbacks_failed = Counter(
    "callbacks_failed",
    "Callback attempts that failed (each is retried until dead)",
    namespace=_PREFIX,
    registry=REGISTRY,
)
callbacks_dead = Counter(
    "callbacks_dead",
    "Callbacks given up on after the last retry",
    namespace=_PREFIX,
    registry=REGISTRY,
)
fetch_latency = Histogram(
    "fetch_latency_seconds",
    "Answer/action/redirect document fetches, start to document (or failure)",
    namespace=_PREFIX,
    registry=REGISTRY,
    buckets=LATENCY_BUCKETS_S,
)
transcription_jobs = Counter(
    "transcription_jobs",
    "Transcription jobs by outcome: queued (stored, or left by an earlier process and queued "
    "again), done (posted with the text), failed (posted with error set)",
    ("outcome",),
    namespace=_PREFIX,
    registry=REGISTRY,
)
transcription_pending = Gauge(
    "transcription_jobs_pending",
    "Transcription jobs stored and not yet posted (waiting or running)",
    namespace=_PREFIX,
    registry=REGISTRY,
)
transcription_audio = Counter(
    "transcription_audio_seconds",
    "Seconds of recorded audio in the transcription jobs done",
    namespace=_PREFIX,
    registry=REGISTRY,
)
transcription_cpu = Counter(
    "transcription_cpu_seconds",
    "CPU seconds the engine took in the worker processes for the jobs done",
    namespace=_PREFIX,
    registry=REGISTRY,
)


def command_kind(line: str) -> str:
    """The label for an ESL command line: its first word (`sendmsg`, `api`, `bgapi`, ...)."""
    return line.split(" ", 1)[0] or "?"


def exposition() -> tuple[bytes, str]:
    """The Prometheus text exposition of `REGISTRY` and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
