"""`<Play>`: play an http(s) audio file `loop` times (0 = until the call ends).

Remote files go through mod_http_cache (`http_cache://<url>`). Several loops are one
`playback` of a `file_string://` joining the source up to MAX_FILE_STRING_SOURCES times (no gap
between loops, one round trip per batch); a URL holding `!` (file_string's separator) is
looped with single playbacks instead. When FreeSWITCH cannot play the file (Application-Response
other than `FILE PLAYED`), the loop stops, one line is logged and the document goes on.
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.fs import arguments
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, Outcome, app_response, run_app

PLAYED = "FILE PLAYED"


def _batches(loop: int, batch: int):
    """Sizes of successive playbacks: `loop` in chunks of `batch`, forever when loop is 0."""
    remaining = loop
    while loop == 0 or remaining > 0:
        size = batch if loop == 0 else min(batch, remaining)
        remaining -= size
        yield size


def play_source(ctx: ExecContext, source: str, loop: int, what: str) -> Outcome:
    """Play `source` (a FreeSWITCH playback source) `loop` times; shared with Conference sounds."""
    batch = 1 if "!" in source else arguments.MAX_FILE_STRING_SOURCES
    for size in _batches(loop, batch):
        arg = source if size == 1 else arguments.file_string([source] * size)
        done = run_app(ctx, "playback", arg)
        if isinstance(done, Gone):
            return done
        response = app_response(done)
        if response != PLAYED:
            ctx.log.warning(
                "call %s: %s: FreeSWITCH could not play it (%s)",
                ctx.conn.uuid,
                what,
                response or "no response",
            )
            return NEXT
    return NEXT


def run(play: Any, ctx: ExecContext) -> Outcome:
    source = arguments.http_audio(play.url)
    return play_source(ctx, source, play.loop, f"<Play> {shown_url(play.url)}")
