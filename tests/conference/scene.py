"""A conference scene: the daemon, a FreeSWITCH (embedded or real), a web app, several callers.

The same scenarios run against the embedded FreeSWITCH (tests/conference/) and a real one
(tests/fs/): everything is driven over ESL (originate, uuid_send_dtmf, uuid_broadcast,
uuid_kill, conference API) and observed through the web app (documents fetched, callbacks
posted) and the conference API.

Callers are originated as `loopback/<to>/default`; the web app answers each with the document
registered for its `To` number, so every caller can run its own document.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import attrs
import gevent
from gevent.pywsgi import WSGIServer
from waiting import until

from plivoxml_fs.config import Settings
from plivoxml_fs.esl.inbound import InboundClient
from plivoxml_fs.hearing import Party, measure, tone_wav
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch

SOUNDS = Path(__file__).resolve().parents[2] / "examples" / "sounds"
#: How long a scene waits for something it expects, in wall seconds.
WAIT_S = 15.0


@attrs.frozen
class Hit:
    method: str
    path: str
    params: dict


class WebApp:
    """Answers by `To`, serves /docs/<name>, the chime and /tones/<hz>.wav, records every
    request."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}  # To -> document
        self.documents: dict[str, str] = {}  # path -> document (action targets, sound docs)
        self.audio: dict[str, bytes] = {}  # path -> a WAV file's bytes (served as audio/wav)
        self.hits: list[Hit] = []
        self.base = ""
        self._server: WSGIServer | None = None

    def start(self) -> None:
        self._server = WSGIServer(("127.0.0.1", 0), self, log=None, error_log=None)
        self._server.start()
        self.base = f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=1)

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = environ["wsgi.input"].read(length).decode() if length else ""
        params = dict(parse_qsl(form or environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self.hits.append(Hit(environ["REQUEST_METHOD"], path, params))
        document = None
        if path == "/answer":
            document = self.answers.get(params.get("To", ""))
        elif path in self.documents:
            document = self.documents[path]
        if document is not None:
            start_response("200 OK", [("Content-Type", "application/xml")])
            return [document.format(base=self.base).encode()]
        if path.startswith("/tones/") and path.endswith(".wav"):
            # /tones/<hz>.wav: 3 s of a sine, music a who-hears-whom matrix can tell apart
            start_response("200 OK", [("Content-Type", "audio/wav")])
            return [tone_wav(int(path[len("/tones/"):-len(".wav")]))]
        if path in self.audio:
            start_response("200 OK", [("Content-Type", "audio/wav")])
            return [self.audio[path]]
        if path == "/sounds/chime.wav":
            start_response("200 OK", [("Content-Type", "audio/wav")])
            return [(SOUNDS / "chime.wav").read_bytes()]
        if path.startswith("/missing"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such thing"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    def of(self, path: str, to: str | None = None) -> list[dict]:
        """Parameters of each request to `path` (for caller `to` only, when given)."""
        return [h.params for h in list(self.hits)
                if h.path == path and (to is None or h.params.get("To") == to)]


@attrs.define
class Caller:
    to: str
    a_leg: str


class Scene:
    """One daemon and its FreeSWITCH; callers, their digits and audio, and what the app saw."""

    def __init__(self, daemon: Daemon, app: WebApp, esl: tuple[str, int], password: str) -> None:
        self.daemon = daemon
        self.app = app
        self._n = 0
        self._jobs: list[gevent.Greenlet] = []
        self.callers: list[Caller] = []  # every caller this scene started
        # CHANNEL_EXECUTE, DTMF and conference::maintenance, as an observer sees them
        self.events: list = []
        self.observer = InboundClient(
            *esl, password, events=("CHANNEL_EXECUTE", "DTMF", "conference::maintenance"),
            on_event=self.events.append, reconnect_min_s=0.1, reconnect_max_s=1.0,
            command_timeout_s=5.0,
        )
        self.observer.start()
        assert self.observer.wait_connected(5), "the observer cannot reach FreeSWITCH"

    def api(self, cmd: str) -> str:
        return self.observer.api(cmd, check=False)

    def stop(self) -> None:
        self.observer.stop()

    def digits_heard(self, caller: Caller) -> str:
        """The digits that reached the caller's phone (its A leg) from the room."""
        return "".join(e.get("DTMF-Digit", "") for e in list(self.events)
                       if e.name == "DTMF" and e.get("Unique-ID") == caller.a_leg)

    def apps(self, call_uuid: str) -> list[tuple[str, str]]:
        """(application, data) of each application FreeSWITCH ran on channel `call_uuid`."""
        return [(e.get("Application", ""), e.get("Application-Data", "")) for e in list(self.events)
                if e.name == "CHANNEL_EXECUTE" and e.get("Unique-ID") == call_uuid]

    def room_events(self, name: str, action: str) -> list:
        return [e for e in list(self.events) if e.name == "CUSTOM"
                and e.get("Conference-Name") == name and e.get("Action") == action]

    def call(self, to: str, document: str, variables: str = "") -> Caller:
        """Start a caller to `to` whose answer document is `document` ({base} = the web app);
        `variables`: more `name=value,...` for both loopback legs."""
        self._n += 1
        self.app.answers[to] = document
        a_leg = f"conf-{to}-{self._n}-{int(time.time() * 1000) % 100000}"
        more = f",{variables}" if variables else ""
        dial = (f"originate {{origination_uuid={a_leg},origination_caller_id_number=1001{more}}}"
                f"loopback/{to}/default &park")
        self._jobs.append(gevent.spawn(self.daemon.inbound.bgapi, dial, timeout=WAIT_S))
        caller = Caller(to, a_leg)
        self.callers.append(caller)
        return caller

    def wait(self, what: str, ready: Callable[[], object], timeout: float = WAIT_S):
        """Wait until `ready()` is truthy and return it; fail naming `what` otherwise."""
        return until(what, ready, timeout, poll_s=0.02)

    def callbacks(self, path: str, to: str, action: str | None = None) -> list[dict]:
        hits = self.app.of(path, to)
        return [h for h in hits if action is None or h.get("ConferenceAction") == action]

    def entered(self, caller: Caller, path: str = "/cb") -> dict:
        """The enter callback of `caller` (waits for it)."""
        return self.wait(f"{caller.to} enters",
                         lambda: next(iter(self.callbacks(path, caller.to, "enter")), None))

    def hung_up(self, caller: Caller) -> dict:
        """The hangup callback of `caller` (waits for it)."""
        return self.wait(f"{caller.to} hangup callback",
                         lambda: next(iter(self.app.of("/hangup", caller.to)), None))

    def dtmf(self, caller: Caller, digits: str) -> None:
        self.api(f"uuid_send_dtmf {caller.a_leg} {digits}")

    def talk(self, caller: Caller, ms: int) -> None:
        """The caller sends `ms` of a tone into the call (its A leg plays it)."""
        self.api(f"uuid_broadcast {caller.a_leg} tone_stream://%({ms},0,600) aleg")

    def hang_up(self, caller: Caller) -> None:
        self.api(f"uuid_kill {caller.a_leg}")

    def leave(self, callers) -> None:
        """Hang up `callers`, then wait for each one's hangup callback."""
        for caller in callers:
            self.hang_up(caller)
        for caller in callers:
            self.hung_up(caller)

    def hearing(self, callers, record_dir: Path | None = None):
        """Who of `callers` hears whom, from audio (plivoxml_fs/hearing.py `measure`) recorded
        in `record_dir` (the scene's by default) at the scene's `time_scale`."""
        return measure(self.api, [Party(c.to, c.a_leg) for c in callers],
                       self.record_dir if record_dir is None else record_dir,
                       time_scale=self.time_scale)

    def hang_up_all(self) -> None:
        """Hang up every caller this scene started (only those: never `hupall`, which would
        end the calls of anyone else using the same FreeSWITCH)."""
        for caller in self.callers:
            self.hang_up(caller)

    def members(self, room: str) -> list[str]:
        """`conference <room> list` lines (empty when the room does not exist)."""
        reply = self.api(f"conference {room} list")
        if reply.startswith("-ERR") or "not found" in reply:
            return []
        return [line for line in reply.splitlines() if line.count(";") >= 5]

    def flush(self) -> None:
        assert self.daemon.outbox.flush(WAIT_S), "callbacks still pending"


def scene_settings(app: WebApp, tmp_path: Path, **overrides) -> Settings:
    values = dict(
        answer_url=f"{app.base}/answer",
        hangup_url=f"{app.base}/hangup",
        command_timeout_s=5.0,
        linger_s=1,
        metrics_port=0,
        # not served (metrics_port 0): the scenarios only read the name; a daemon without either
        # would start no recording at all
        record_base_url="http://recordings.example.com/rec/",
        state_dir=str(tmp_path / "state"),
        recordings_dir=str(tmp_path / "recordings"),
        callback_max_retries=1,
        callback_backoff_base_s=0.1,
        callback_backoff_max_s=0.2,
        log_json=False,
    )
    values.update(overrides)
    return Settings(**values)


def embedded_scene(stops: list, tmp_path: Path, listen_port: int, time_scale: float,
                   **overrides) -> Scene:
    """A Scene on a new daemon and embedded FreeSWITCH (media time `time_scale`) with its web
    app; each thing started leaves its stop in `stops`, to be called in reverse order.
    `settings` on the Scene are the ones the daemon was made with."""
    app = WebApp()
    app.start()
    stops.append(app.stop)
    settings = scene_settings(app, tmp_path, listen_port=listen_port, **overrides)
    daemon = Daemon(settings)
    daemon.start_server()
    stops.append(lambda: daemon.stop(drain_timeout_s=2))
    fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=time_scale,
                            media_dir=str(tmp_path))
    fs.start()
    stops.append(fs.stop)
    daemon.start_inbound(*fs.inbound_address)
    assert daemon.inbound.wait_connected(5)
    built = Scene(daemon, app, fs.inbound_address, fs.password)
    stops.append(built.stop)
    built.fs = fs
    built.settings = settings  # as built: start_inbound evolves daemon.settings
    return built
