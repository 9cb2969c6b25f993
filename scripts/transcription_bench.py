"""Transcription accuracy, measured: known sentences through a recorded conference, then WER.

Each sentence of examples/speech/sentences.txt (spoken whole by flite, the libflite of
FreeSWITCH 1.10.12's mod_flite, into 8 kHz WAVs: sN.wav, voices slt and kal16 in turn; made by
scripts/make_speech.sh) is played by a caller into its own recorded <Conference>
(recordFileFormat="wav", transcriptionUrl set; a second, silent caller in it, so that no hold
music plays; --lone leaves the speaker alone with it) on the embedded FreeSWITCH, or a real
one with --freeswitch, through the daemon (plivoxml_fs.service.Daemon, in this process). The
daemon's transcription callbacks are collected (the default engine, as users get it). Then
every available engine transcribes the room recordings again in this process, timed with
process_time: pocketsphinx always, the HTTP engine when --http-url is given.

Prints one JSON object: per engine the corpus word error rate (jiwer; lower case, no
punctuation), CPU seconds per second of audio, and each sentence's hypothesis.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402

from plivoxml_fs.config import Settings  # noqa: E402
from plivoxml_fs.effects.transcription import engines  # noqa: E402
from plivoxml_fs.service import Daemon  # noqa: E402
from plivoxml_fs.simulator import EmbeddedFreeSwitch  # noqa: E402

SPEECH = ROOT / "examples" / "speech"
WAIT_S = 120.0
DOCUMENT = ("<Response><Conference record='true' recordFileFormat='wav' "
            "transcriptionType='auto' transcriptionUrl='{base}/tx' callbackUrl='{base}/cb'>"
            "{room}</Conference></Response>")


class App:
    def __init__(self) -> None:
        self.base = ""
        self.hits: list[tuple[str, dict]] = []

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode(),
                              keep_blank_values=True))
        path = environ["PATH_INFO"]
        self.hits.append((path, form))
        if path == "/answer":
            start_response("200 OK", [("Content-Type", "application/xml")])
            room = f"bench-{form.get('To', '')[:-1]}"  # 19NN0 speaks, 19NN1 listens
            return [DOCUMENT.format(base=self.base, room=room).encode()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    def of(self, path: str) -> list[dict]:
        return [form for p, form in list(self.hits) if p == path]


def until(what: str, ready, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while not (value := ready()):
        if time.monotonic() > deadline:
            raise SystemExit(f"transcription bench: gave up waiting for {what}")
        time.sleep(0.02)
    return value


def normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def record_sentences(state: Path, files: list[Path], time_scale: float,
                     freeswitch: str = "", socket_port: int = 0,
                     lone: bool = False) -> tuple[dict, dict]:
    """Plays each file into its own recorded room: {file: daemon's transcription callback},
    {file: the room's recording path}. `freeswitch` HOST:PORT: a real FreeSWITCH's event
    socket (its dialplan hands calls to 127.0.0.1:`socket_port`), else the embedded one."""
    app = App()
    web = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    web.start()
    app.base = f"http://127.0.0.1:{web.server_port}"
    settings = Settings(answer_url=f"{app.base}/answer", listen_port=socket_port,
                        metrics_port=0,
                        record_base_url="http://recordings.example.com/", linger_s=1,
                        state_dir=str(state), log_level="WARNING", log_json=False)
    daemon = Daemon(settings)
    daemon.start_server()
    fs = None
    if freeswitch:
        host, port = freeswitch.rsplit(":", 1)
        daemon.start_inbound(host, int(port))
    else:
        fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=time_scale)
        fs.start()
        daemon.start_inbound(*fs.inbound_address)

    def api(cmd: str) -> str:
        return daemon.inbound.api(cmd, check=False)

    posted, recordings = {}, {}
    try:
        until("the inbound connection", lambda: daemon.inbound.connected)
        for n, path in enumerate(files):
            # two members: alone, one would hear (and the recording hold) the room's music
            to, leg = f"{1900 + n}0", f"bench-leg-{n}"
            callers = ((to, leg),) if lone else ((to, leg), (f"{1900 + n}1", f"{leg}-listener"))
            for number, uuid in callers:
                daemon.inbound.bgapi(f"originate {{origination_uuid={uuid}}}loopback/{number}"
                                     "/default &park", timeout=WAIT_S)
                until(f"caller {number} in its room", lambda number=number: any(
                    f.get("ConferenceAction") == "enter" and f.get("To") == number
                    for f in app.of("/cb")))
            until(f"recording {n} to start", lambda: len(list(
                (state / "recordings").glob("*.wav"))) > n)  # noqa: B023 - used at once
            api(f"uuid_broadcast {leg} {path} aleg")
            until(f"sentence {n} to be played", lambda leg=leg: api(
                f"uuid_getvar {leg} playback_ms").strip() not in ("", "_undef_"))
            api(f"uuid_kill {leg}")
            if not lone:
                api(f"uuid_kill {leg}-listener")
            record = until(f"record callback {n}", lambda to=to: [
                f for f in app.of("/cb") if f.get("ConferenceAction") == "record"
                and f.get("To") == to])[0]
            recordings[path] = state / "recordings" / record["RecordUrl"].rsplit("/", 1)[1]
            posted[path] = until(f"transcription {n}", lambda rid=record["RecordingID"]: [
                f for f in app.of("/tx") if f.get("recording_id") == rid])[0]
    finally:
        daemon.stop(drain_timeout_s=5)
        if fs is not None:
            fs.stop()
        web.stop(timeout=1)
    return posted, recordings


def measure(name: str, config: engines.EngineConfig, refs: list[str],
            files: list[Path]) -> dict:
    hyps, cpu, audio = [], 0.0, 0.0
    for path in files:
        audio += engines.decode(str(path))[1]
        started = time.process_time()
        try:
            hyps.append(normal(engines.transcribe(str(path), config)))
        except engines.EngineError as exc:
            return {"engine": name, "error": str(exc)}
        cpu += time.process_time() - started
    return {"engine": name, "wer": round(jiwer.wer(refs, hyps), 4),
            "cpu_s_per_audio_s": round(cpu / audio, 3), "audio_s": round(audio, 2),
            "hypotheses": hyps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http-url", default="", help="an OpenAI-compatible "
                        "/v1/audio/transcriptions URL: measure the HTTP engine too")
    parser.add_argument("--http-model", default="whisper-1")
    parser.add_argument("--http-key", default="", help="its key (Bearer)")
    parser.add_argument("--freeswitch", default="", metavar="HOST:PORT",
                        help="record through a real FreeSWITCH's conference (its event socket; "
                        "its dialplan must hand calls to 127.0.0.1:--socket-port)")
    parser.add_argument("--socket-port", type=int, default=8084,
                        help="with --freeswitch: where the daemon listens for its calls")
    parser.add_argument("--keep", default="", metavar="DIR",
                        help="keep the state (recordings) in DIR rather than a temporary one")
    parser.add_argument("--speech", default=str(SPEECH), metavar="DIR",
                        help="the sentences.txt and s1.wav... to speak (default examples/speech)")
    parser.add_argument("--lone", action="store_true",
                        help="no second caller: each speaker is alone in its room, so the "
                        "profile's music on hold plays (and is recorded) under the speech")
    parser.add_argument("--time-scale", type=float, default=0.1,
                        help="embedded FreeSWITCH media time per wall second (default 0.1)")
    args = parser.parse_args(argv)
    speech = Path(args.speech).resolve()
    refs = [normal(line) for line in (speech / "sentences.txt").read_text().splitlines()
            if line.strip()]
    files = [speech / f"s{n + 1}.wav" for n in range(len(refs))]
    with tempfile.TemporaryDirectory(prefix="plivoxml-tx-bench-") as temporary:
        state = args.keep or temporary
        posted, recordings = record_sentences(Path(state), files, args.time_scale,
                                              args.freeswitch, args.socket_port, args.lone)
        rooms = [recordings[f] for f in files]
        daemon_hyps = [normal(posted[f]["transcription"]) for f in files]
        result = {
            "sentences": len(refs),
            "recorded_through": (f"FreeSWITCH at {args.freeswitch}" if args.freeswitch
                                 else "embedded FreeSWITCH") + ": <Conference>, 8 kHz WAV"
                                + (", speaker alone (music on hold)" if args.lone else ""),
            "speech": str(speech),
            "daemon_callbacks": {"engine": "pocketsphinx", "wer": round(jiwer.wer(refs,
                                 daemon_hyps), 4),
                                 "errors": [posted[f]["error"] for f in files
                                            if posted[f]["error"]]},
            "engines": [measure("pocketsphinx", engines.EngineConfig(), refs, rooms)],
            "references": refs,
        }
        if args.http_url:
            result["engines"].append(measure("http", engines.EngineConfig(
                engine="http", url=args.http_url, model=args.http_model, key=args.http_key),
                refs, rooms))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
