"""Callback delivery: verbs and the driver emit `Webhook`s, never HTTP themselves.

This `Outbox` keeps callbacks in memory (the durable SQLite outbox replaces it later with the
same interface: `start`, `emit`, `flush`, `stop`). What it guarantees now:

- `emit` returns at once; it never blocks a call, even when every worker is busy;
- per-call order: the webhooks of one call uuid are delivered one after the other, in emit
  order; different calls never wait on each other beyond the shared worker bound;
- a bounded number of worker greenlets (`pool_size`) does all the HTTP;
- each attempt has connect and read timeouts; connect errors, timeouts, HTTP 5xx and 429 are
  retried with back-off (`backoff_s`, one delay per retry); other 4xx are final;
- a webhook that finally fails is logged once (logger `plivoxml_fs.outbox`, with `call_uuid`),
  naming its kind, URL (query hidden) and cause.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence

import attrs
import gevent
import gevent.event
import gevent.queue
import requests

from plivoxml_fs.config import Settings
from plivoxml_fs.effects.fetch import USER_AGENT, pooled_session
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.effects.webhook import Webhook

log = logging.getLogger("plivoxml_fs.outbox")

#: Delay before each retry, in seconds: 3 retries after the first attempt.
DEFAULT_BACKOFF_S = (1.0, 4.0, 15.0)
#: HTTP statuses worth another attempt besides 5xx.
RETRY_STATUSES = frozenset({429})


@attrs.frozen
class Delivery:
    """How one webhook ended: delivered or not, after how many attempts, and why not."""

    webhook: Webhook
    delivered: bool
    attempts: int
    cause: str = ""


class Outbox:
    """In-memory callback queue with per-call ordering and a bounded set of workers."""

    def __init__(
        self,
        *,
        pool_size: int,
        connect_timeout_s: float,
        read_timeout_s: float,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
        session: requests.Session | None = None,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"Outbox: pool_size must be >= 1 (got {pool_size})")
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._backoff = tuple(backoff_s)
        self._session = session or pooled_session(pool_size)
        self._session.headers["User-Agent"] = USER_AGENT
        self._queues: dict[str, deque[Webhook]] = {}
        self._ready: gevent.queue.Queue = gevent.queue.Queue()
        self._pending = 0
        self._idle = gevent.event.Event()
        self._idle.set()
        self._closed = False
        self._pool_size = pool_size
        self._workers: list[gevent.Greenlet] = []
        #: The last deliveries (most recent last), for tests and diagnostics.
        self.recent: deque[Delivery] = deque(maxlen=1000)

    @classmethod
    def from_settings(cls, settings: Settings) -> Outbox:
        return cls(
            pool_size=settings.callback_pool_size,
            connect_timeout_s=settings.callback_connect_timeout_s,
            read_timeout_s=settings.callback_read_timeout_s,
        )

    @property
    def pending(self) -> int:
        """Webhooks emitted and not yet delivered or given up."""
        return self._pending

    def start(self) -> None:
        """Start the workers (emit starts them too when nobody did)."""
        if not self._workers:
            self._workers = [gevent.spawn(self._work) for _ in range(self._pool_size)]

    def emit(self, webhook: Webhook) -> None:
        """Queue `webhook` for delivery after the earlier ones of its call; returns at once."""
        if self._closed:
            log.error(
                "%s callback for call %s dropped: the outbox is closed",
                webhook.kind,
                webhook.call_uuid,
                extra={"call_uuid": webhook.call_uuid},
            )
            return
        self.start()
        self._pending += 1
        self._idle.clear()
        queue = self._queues.get(webhook.call_uuid)
        if queue is None:
            # No worker owns this call: make it ready. Otherwise its owner will reach it.
            self._queues[webhook.call_uuid] = deque([webhook])
            self._ready.put(webhook.call_uuid)
        else:
            queue.append(webhook)

    def flush(self, timeout: float) -> bool:
        """Wait until every emitted webhook is delivered or given up; False on timeout."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 0.0) -> bool:
        """Stop accepting webhooks, wait up to `timeout` s for the queue, stop the workers."""
        self._closed = True
        drained = self.flush(timeout)
        gevent.killall(self._workers)
        self._workers = []
        if not drained:
            log.warning("outbox closed with %d callbacks undelivered", self._pending)
        return drained

    # -- workers --------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            call_uuid = self._ready.get()
            queue = self._queues[call_uuid]
            while queue:
                webhook = queue[0]
                try:
                    self._deliver(webhook)
                finally:
                    queue.popleft()
                    self._done()
            del self._queues[call_uuid]

    def _done(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    def _deliver(self, webhook: Webhook) -> None:
        attempts = 0
        cause = ""
        for delay in (0.0, *self._backoff):
            if delay:
                gevent.sleep(delay)
            attempts += 1
            retry, cause = self._attempt(webhook)
            if not cause:
                self.recent.append(Delivery(webhook, True, attempts))
                return
            if not retry:
                break
        self.recent.append(Delivery(webhook, False, attempts, cause))
        log.error(
            "%s callback for call %s to %s failed after %d attempt(s): %s",
            webhook.kind,
            webhook.call_uuid,
            shown_url(webhook.url),
            attempts,
            cause,
            extra={"call_uuid": webhook.call_uuid},
        )

    def _attempt(self, webhook: Webhook) -> tuple[bool, str]:
        """One HTTP request: ("", ok) as (False, ""), else (worth retrying, cause)."""
        key = "data" if webhook.method == "POST" else "params"
        try:
            response = self._session.request(
                webhook.method,
                webhook.url,
                timeout=self._timeout,
                allow_redirects=False,
                **{key: dict(webhook.params)},
            )
        except requests.Timeout:
            return True, "timed out"
        except requests.ConnectionError:
            return True, "cannot connect"
        except requests.RequestException as exc:
            return False, type(exc).__name__
        with response:
            status = response.status_code
        if 200 <= status < 400:
            return False, ""
        retry = status >= 500 or status in RETRY_STATUSES
        return retry, f"HTTP {status}"
