"""The room engine's edge: performs what rooms decide (rooms/registry.py `Edge`).

- Commands go as `bgapi` over the daemon's inbound connection (the transport correlates the
  BACKGROUND_JOB by Job-UUID), each in its own greenlet so no caller waits for FreeSWITCH;
  while the inbound connection is down (or absent) a command about a member goes over that
  member's own socket (`api`), so members keep their `*` and time limit. A recording's folder
  is made first. The answer (or `-ERR <why>`) goes back into the room as a `CommandDone`.
- Webhooks go into the outbox at once (a refused one is one ERROR line).
- Transcriptions go to the Transcriber (a SQLite insert; the engine runs in a worker process).
- Timers are greenlets on the hub that fire the room's `tick`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent

from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.rooms.model import Command, CommandDone

log = logging.getLogger("plivoxml_fs.rooms")


class _Timer:
    """A timer handle: `cancel()` kills its greenlet."""

    def __init__(self, greenlet: gevent.Greenlet) -> None:
        self._greenlet = greenlet

    def cancel(self) -> None:
        self._greenlet.kill(block=False)


def _guarded(run: Callable[[], None], what: str) -> None:
    """Run a room input from a greenlet of ours; a failure is logged, never lost in the hub."""
    try:
        run()
    except Exception:
        log.exception("room engine failed on %s", what)


class GeventEdge:
    """Commands over `inbound()` (an InboundClient, or None), webhooks into `outbox`."""

    def __init__(self, inbound: Callable[[], Any], outbox: Any, *,
                 command_timeout_s: float, transcriber: Any = None) -> None:
        self._inbound = inbound
        self._outbox = outbox
        self._transcriber = transcriber
        self._timeout_s = command_timeout_s
        self._timers: set[gevent.Greenlet] = set()

    def now(self) -> float:
        return time.time()

    def send(self, command: Command, done: Callable[[CommandDone], None], via: Any) -> None:
        gevent.spawn(self._send, command, done, via)

    def _send(self, command: Command, done: Callable[[CommandDone], None], via: Any) -> None:
        answer = CommandDone(command.token, self._answer(command, via))
        about = f" of {command.room}" if command.room else ""
        _guarded(lambda: done(answer), f"the answer to {command.cmd!r}{about}")

    def _answer(self, command: Command, via: Any) -> str:
        try:
            if command.make_dir:
                Path(command.make_dir).mkdir(parents=True, exist_ok=True)
            inbound = self._inbound()
            if via is not None and (inbound is None or not inbound.connected) and not via.closed:
                return via.api(command.cmd, timeout=self._timeout_s, check=False)
            if inbound is None:
                return "-ERR no inbound connection to FreeSWITCH"
            return inbound.bgapi(command.cmd, timeout=self._timeout_s).body_text
        except (OSError, PlivoXMLError) as exc:
            return f"-ERR {exc}"

    def emit(self, webhook: Webhook) -> None:
        try:
            self._outbox.emit(webhook)
        except (ValueError, PlivoXMLError) as exc:
            log.error("call %s: %s callback to %s not sent: %s", webhook.call_uuid, webhook.kind,
                      shown_url(webhook.url), exc, extra={"call_uuid": webhook.call_uuid})

    def transcribe(self, job: Any) -> None:
        """A finished recording's transcription: stored and queued (effects/transcriber.py)."""
        if self._transcriber is None:
            log.error("call %s: recording %s not transcribed: this daemon has no transcription "
                      "workers", job.call_uuid, job.recording_id,
                      extra={"call_uuid": job.call_uuid})
            return
        self._transcriber.submit(job)

    def arm(self, at: float, fire: Callable[[], None]) -> _Timer:
        timer = gevent.spawn_later(max(0.0, at - time.time()), _guarded, fire, "a room's timer")
        self._timers.add(timer)
        timer.link(self._timers.discard)
        return _Timer(timer)

    def stop(self) -> None:
        """Cancel the timers (the daemon stops)."""
        gevent.killall(list(self._timers))
