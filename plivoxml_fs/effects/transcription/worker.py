"""One transcription job in its own process: `python -m plivoxml_fs.effects.transcription.worker`.

Reads `{"path": ..., "engine": ..., "url": ..., "model": ..., "timeout_s": ...}` (JSON) on
stdin, the HTTP engine's key from the environment variable KEY_VARIABLE (never argv, which
`ps` shows), and writes one JSON line on stdout: `{"text": ..., "cpu_s": ..., "audio_s": ...}`
or `{"error": ...}`. The daemon (effects/transcriber.py) runs it niced, one per worker slot.
"""

from __future__ import annotations

import json
import os
import sys
import time

from plivoxml_fs.effects.transcription import engines

#: Where the worker finds the HTTP engine's key.
KEY_VARIABLE = "PLIVOXML_TRANSCRIPTION_KEY"


def run(request: dict) -> dict:
    """The answer for one request (never raises for an engine's failure)."""
    config = engines.EngineConfig(
        engine=str(request.get("engine", "pocketsphinx")), url=str(request.get("url", "")),
        model=str(request.get("model", "whisper-1")),
        timeout_s=float(request.get("timeout_s", 300.0)),
        key=os.environ.get(KEY_VARIABLE, ""))
    path = str(request["path"])
    started = time.process_time()
    try:
        text = engines.transcribe(path, config)
    except engines.EngineError as exc:
        return {"error": str(exc)}
    return {"text": text, "cpu_s": round(time.process_time() - started, 3)}


def main() -> None:
    request = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(run(request)) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
