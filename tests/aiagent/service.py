"""An AI service built on the official plivo-stream-sdk (its websockets handler), run as its own
process (asyncio, no gevent). It prints one JSON line per event it gets (`{"on": "media", ...}`)
and obeys JSON lines on stdin: play (payload base64, content_type, rate), checkpoint (name),
clear, dtmf (raw sendDTMF), json (any object), text (any string), close.

Usage: python service.py [--reject] -- prints `{"port": N}` first.
"""

import asyncio
import base64
import json
import sys
import threading

import websockets
from plivo_stream import PlivoWebsocketStreamingHandler


def say(**what):
    print(json.dumps(what), flush=True)


async def main():
    loop = asyncio.get_running_loop()
    handlers = []

    async def connection(ws):
        handler = PlivoWebsocketStreamingHandler()
        handlers.append(handler)
        headers = dict(ws.request.headers) if ws.request else {}
        say(on="connected", path=ws.request.path if ws.request else "", headers=headers)

        @handler.on_start
        async def _start(event):
            say(on="start", stream_id=handler.get_stream_id(), call_id=handler.get_call_id(),
                encoding=event.start.media_format.encoding,
                rate=event.start.media_format.sample_rate, extra=event.extra_headers,
                tracks=event.start.tracks)

        @handler.on_media
        async def _media(event):
            say(on="media", raw=base64.b64encode(event.get_raw_media()).decode(),
                chunk=event.media.chunk, timestamp=event.media.timestamp)

        @handler.on_dtmf
        async def _dtmf(event):
            say(on="dtmf", digit=event.dtmf.digit)

        @handler.on_played_stream
        async def _played(event):
            say(on="playedStream", name=event.name)

        @handler.on_cleared_audio
        async def _cleared(event):
            say(on="clearedAudio")

        @handler.on_error
        async def _error(error):
            say(on="error", error=str(error))

        await handler.handle(ws)
        say(on="disconnected")

    def commands():
        for line in sys.stdin:
            asyncio.run_coroutine_threadsafe(obey(json.loads(line)), loop)

    async def obey(command):
        if not handlers:
            return
        handler = handlers[-1]
        do = command["do"]
        if do == "play":
            await handler.send_media(base64.b64decode(command["payload"]),
                                     content_type=command["content_type"],
                                     sample_rate=command["rate"])
        elif do == "checkpoint":
            await handler.send_checkpoint(command["name"])
        elif do == "clear":
            await handler.send_clear_audio()
        elif do == "json":
            await handler.send_json(command["value"])
        elif do == "text":
            await handler.send_text(command["value"])
        elif do == "close":
            await handler._websocket.close()
        say(on="done", do=do)

    async with websockets.serve(connection, "127.0.0.1", 0) as server:
        say(port=server.sockets[0].getsockname()[1])
        threading.Thread(target=commands, daemon=True).start()
        await asyncio.Future()


asyncio.run(main())
