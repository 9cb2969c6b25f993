"""How the outbox delivers one webhook: HTTP attempts, retries with back-off, signing.

Split from effects/outbox.py (which queues webhooks, stores them and runs the workers). A
`Sender` never touches the outbox file: it reports each failed attempt and the end of a
delivery through the callbacks `Outbox._deliver` gives it, so the file stays the outbox's.

- each attempt has connect and read timeouts and a total deadline; connect errors, timeouts,
  HTTP 5xx and 429 are retried after each delay of `backoff_s` (with jitter: each delay is
  drawn from [d/2, d]); other 4xx are final; so are 3xx: redirects are never followed for
  callbacks (a redirect loop costs one request);
- every request carries `X-PlivoXML-Delivery-Id` (stable across retries and restarts); with an
  `auth_token`, requests are signed as Plivo signs them (effects/signing.py);
- HTTP goes through one `HttpClient` (effects/http11.py: keep-alive, up to `pool_size` idle
  connections per host): urllib3's PoolManager cost 6 times its CPU per callback, a requests
  Session 2.5 times urllib3's. A reply body is read up to `REPLY_BYTES` to keep the
  connection, else the connection is dropped;
- metrics: `callbacks_delivered` counts accepted requests, `callbacks_failed` every failed
  attempt (retried or not), `callbacks_dead` webhooks given up on. Log lines go to logger
  `plivoxml_fs.outbox`, with the context of `log_context`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence

import attrs
import gevent

from plivoxml_fs import metrics
from plivoxml_fs.config import Settings
from plivoxml_fs.effects.http11 import (
    USER_AGENT,
    ConnectError,
    HttpClient,
    HttpError,
    ProtocolError,
)
from plivoxml_fs.effects.http11 import ReadTimeout as HttpTimeout
from plivoxml_fs.effects.signing import signature_headers
from plivoxml_fs.effects.urls import form_encode, shown_url, with_query
from plivoxml_fs.effects.webhook import Webhook

log = logging.getLogger("plivoxml_fs.outbox")

#: Delay before each retry, in seconds (before jitter): 3 retries after the first attempt.
DEFAULT_BACKOFF_S = (1.0, 4.0, 15.0)
#: HTTP statuses worth another attempt besides 5xx.
RETRY_STATUSES = frozenset({429})
#: Header naming one callback across all its attempts and restarts.
DELIVERY_ID_HEADER = "X-PlivoXML-Delivery-Id"
#: Reply bytes read to keep a connection (a receiver's reply body is otherwise ignored).
REPLY_BYTES = 64 * 1024


def backoff_from_settings(settings: Settings) -> tuple[float, ...]:
    """Exponential delays: base, 2*base, 4*base, ... capped, one per retry."""
    base, cap = settings.callback_backoff_base_s, settings.callback_backoff_max_s
    return tuple(min(cap, base * 2**n) for n in range(settings.callback_max_retries))


@attrs.frozen
class Delivery:
    """How one webhook ended: delivered or not, after how many attempts, and why not."""

    webhook: Webhook
    delivered: bool
    attempts: int
    cause: str = ""
    delivery_id: str = ""


@attrs.define
class Item:
    """A queued webhook: its delivery id, its row in the outbox file, the attempts so far."""

    webhook: Webhook
    delivery_id: str
    row_id: int | None  # None: not in the file (it could not be written)
    attempts: int = 0


def log_context(webhook: Webhook) -> dict[str, str]:
    """The log context of a line about `webhook` (logs.CONTEXT_FIELDS)."""
    context = {"call_uuid": webhook.call_uuid, "event": webhook.kind}
    conference = webhook.params.get("ConferenceName")
    if conference:
        context["conference"] = conference
    return context


def _connection_cause(exc: HttpError) -> str:
    return f"connection failed ({exc or type(exc).__name__})"



def pooled_http(pool_size: int, connect_timeout_s: float = 3.0,
                read_timeout_s: float = 10.0) -> HttpClient:
    """Connections kept per receiver host (`pool_size`, the most in flight), no retries or
    redirects of its own (the outbox decides), TLS verified against certifi's CAs."""
    return HttpClient(per_host=pool_size, connect_timeout_s=connect_timeout_s,
                      read_timeout_s=read_timeout_s, user_agent=USER_AGENT)


class Sender:
    """Delivers one webhook at a time per caller (a worker greenlet): attempts, back-off."""

    def __init__(
        self,
        *,
        pool_size: int,
        connect_timeout_s: float,
        read_timeout_s: float,
        backoff_s: Sequence[float],
        total_timeout_s: float | None,
        auth_token: str,
    ) -> None:
        self._total_s = total_timeout_s or connect_timeout_s + read_timeout_s
        self._backoff = tuple(backoff_s)
        self._auth_token = auth_token
        self._http = pooled_http(pool_size, connect_timeout_s, read_timeout_s)

    def deliver(
        self,
        item: Item,
        failed: Callable[[Item, str, bool], None],
        ended: Callable[[Item, Delivery], None],
    ) -> None:
        """Attempt `item` until it is delivered or given up on. After each failed attempt
        `failed(item, cause, dead)` (item.attempts counts it); at the end `ended(item,
        delivery)`, before the end's log line."""
        webhook = item.webhook
        while True:
            retry, cause = self.attempt(item)
            item.attempts += 1
            if not cause:
                metrics.callbacks_delivered.inc()
                ended(item, Delivery(webhook, True, item.attempts, "", item.delivery_id))
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s callback for call %s delivered to %s (attempt %d)",
                              webhook.kind, webhook.call_uuid, shown_url(webhook.url),
                              item.attempts, extra=log_context(webhook))
                return
            metrics.callbacks_failed.inc()
            retries_done = item.attempts - 1
            dead = not retry or retries_done >= len(self._backoff)
            failed(item, cause, dead)
            if dead:
                metrics.callbacks_dead.inc()
                break
            delay = random.uniform(self._backoff[retries_done] / 2, self._backoff[retries_done])
            log.debug("%s callback for call %s to %s: attempt %d failed (%s); retrying in %.1f s",
                      webhook.kind, webhook.call_uuid, shown_url(webhook.url), item.attempts,
                      cause, delay, extra=log_context(webhook))
            gevent.sleep(delay)
        ended(item, Delivery(webhook, False, item.attempts, cause, item.delivery_id))
        log.error(
            "%s callback for call %s to %s failed after %d attempt(s): %s",
            webhook.kind,
            webhook.call_uuid,
            shown_url(webhook.url),
            item.attempts,
            cause,
            extra=log_context(webhook),
        )

    def attempt(self, item: Item) -> tuple[bool, str]:
        """One HTTP request: (False, "") when delivered, else (worth retrying, cause)."""
        webhook = item.webhook
        params = dict(webhook.params)
        headers = {DELIVERY_ID_HEADER: item.delivery_id}
        if self._auth_token:
            headers.update(signature_headers(self._auth_token, webhook.method, webhook.url, params))
        fields = form_encode(params)
        url, body = webhook.url, None
        if webhook.method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = fields.encode("ascii")
        else:
            url = with_query(url, fields)
        deadline = gevent.Timeout(self._total_s)
        try:
            with deadline:
                status = self._request(webhook.method, url, body, headers)
        except gevent.Timeout as timeout:
            if timeout is not deadline:
                raise
            return True, f"timed out after {self._total_s} s in total"
        except (ConnectError, ProtocolError) as exc:
            return True, _connection_cause(exc)
        except HttpTimeout:
            return True, "timed out"
        except (HttpError, ValueError) as exc:
            return False, type(exc).__name__
        if 200 <= status < 300:
            return False, ""
        if 300 <= status < 400:
            return False, f"HTTP {status} (redirects are not followed for callbacks)"
        retry = status >= 500 or status in RETRY_STATUSES
        return retry, f"HTTP {status}"

    def _request(self, method: str, url: str, body: bytes | None, headers: dict) -> int:
        """The status; the reply body is read (up to `REPLY_BYTES`) so the connection can be
        reused, else the connection is closed."""
        with self._http.request(method, url, body=body, headers=headers) as response:
            response.read(REPLY_BYTES)
            return response.status
