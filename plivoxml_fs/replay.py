"""`plivoxml-fs replay`: run an XML document against a test call and print what happened.

With no FreeSWITCH given, everything runs in this process: the embedded FreeSWITCH, the daemon,
and a small web app that serves the document (and the files beside it, for Redirect and action
URLs) and records every callback. With `--freeswitch`, the daemon listens where the real
FreeSWITCH's dialplan points and the test call is a real loopback call.

The transcript is built from what can be observed from outside the daemon's logic: the daemon's
own log records (verbs, ESL commands, failures), the FreeSWITCH events of the test call seen on an
inbound connection, and the HTTP requests the web app received.

Each run keeps its state (the callback outbox, recordings) in a temporary directory removed at
the end, so runs never share an outbox file, unless `--config` names `state_dir`.

The web app listens on DEFAULT_HTTP_PORT unless told otherwise, or on a free port when that one is
taken; documents name it as `http://127.0.0.1:8089` (the default address), which the web app
replaces by its actual address in the XML files it serves, so they work on whatever port it got.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sys
import tempfile
import time
import tomllib
import uuid as uuidlib
from pathlib import Path
from typing import TextIO

import attrs
import gevent
import gevent.event

from plivoxml_fs.config import ENV_PREFIX, Settings, load_settings
from plivoxml_fs.errors import (
    DocumentUnavailable,
    ExitCode,
    FreeSwitchUnreachable,
    ListenError,
    PlivoXMLError,
)
from plivoxml_fs.esl.inbound import InboundClient
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.fs import commands
from plivoxml_fs.replay_hearing import EVENTS as HEARING_EVENTS
from plivoxml_fs.replay_hearing import HearingWatch, cast
from plivoxml_fs.replay_transcript import Transcript, _TranscriptHandler
from plivoxml_fs.replay_web import (  # noqa: F401  (re-exported: replay's names, as before)
    ANSWER_PATH,
    CALLBACK_PREFIX,
    CONTENT_TYPES,
    DEFAULT_HTTP_PORT,
    HTTP_HOST,
    HttpHit,
    WebApp,
)
from plivoxml_fs.rooms import recordings
from plivoxml_fs.service import Daemon

log = logging.getLogger("plivoxml_fs.replay")

#: Events of the test calls shown in the transcript.
SHOWN_EVENTS = ("CHANNEL_ANSWER", "DTMF", "CHANNEL_HANGUP_COMPLETE")
#: Seconds replay waits for FreeSWITCH's inbound event socket to accept it.
FREESWITCH_WAIT_S = 5.0


@attrs.frozen
class ReplayOptions:
    """What `plivoxml-fs replay` was asked to do."""

    document: str
    #: further documents: with them, caller k runs the k-th document (each `callers` times)
    other_documents: tuple[str, ...] = ()
    freeswitch: tuple[str, int] | None = None
    password: str = attrs.field(default="ClueCon", repr=False)
    digits: str = ""
    digits_delay_s: float = 1.0
    from_number: str = "1000"
    to_number: str = "2000"
    callers: int = 1
    #: the web app's port; None: `default_http_port`, or a free port when that one is taken
    http_port: int | None = None
    #: the port documents name (http://127.0.0.1:<it>), replaced in the XML files served
    default_http_port: int = DEFAULT_HTTP_PORT
    listen: tuple[str, int] = ("127.0.0.1", 0)
    call_timeout_s: float = 60.0
    time_scale: float = 1.0
    #: a settings file (and, with it, PLIVOXML_FS_* variables) for the daemon's other settings
    config_path: str | None = None
    #: calls that completed with warnings fail the run (ExitCode.WARNINGS)
    strict: bool = False
    #: measure who hears whom once every caller is in its room (replay_hearing.py)
    hearing: bool = False
    #: seconds after every caller is in its room (and measured) before they hang up
    hangup_after_s: float | None = None


def _param_text(params: dict[str, str]) -> str:
    return " ".join(f"{key}={params[key]}" for key in sorted(params))


class Replay:
    """One replay run: start what is needed, place the calls, wait, report."""

    def __init__(self, options: ReplayOptions, out: TextIO | None = None) -> None:
        self.options = options
        self.transcript = Transcript(sys.stdout if out is None else out)
        #: what the daemon logged at ERROR or worse, by call uuid ("" for no call): failures
        self.errors: dict[str, list[str]] = {}
        #: what it logged at WARNING about a call, in order: (call uuid, text); the call went on
        self.warnings: list[tuple[str, str]] = []
        self.hangups: dict[str, gevent.event.Event] = {}
        self.hangup_causes: dict[str, str] = {}
        self.callbacks_by_call: dict[str, list[HttpHit]] = {}
        self.originations: list[gevent.Greenlet] = []
        self.simulator = None
        self.daemon: Daemon | None = None
        self.client: InboundClient | None = None
        self.webapp: WebApp | None = None
        #: this run's state directory when it is a temporary one (removed by `stop`)
        self.temp_state_dir: str | None = None
        #: when the daemon last logged anything (replay_hearing waits for it to be quiet)
        self.last_daemon_log = time.monotonic()
        #: follows the callers into their rooms (--hearing, --hangup-after)
        self.watch: HearingWatch | None = None

    # -- set-up -------------------------------------------------------------------------------
    def _document_url(self) -> tuple[Path, str]:
        doc = self.options.document
        if self.options.other_documents:
            return self._document_root(), ""
        if doc.startswith(("http://", "https://")):
            return Path.cwd(), doc
        path = Path(doc)
        if not path.is_file():
            raise DocumentUnavailable(f"replay: no such document: {doc}")
        return path.parent, ""

    def _documents(self) -> list[str]:
        return [self.options.document, *self.options.other_documents]

    def _document_root(self) -> Path:
        """Several documents: files only, served from the directory that holds them all."""
        paths = []
        for doc in self._documents():
            if doc.startswith(("http://", "https://")):
                raise DocumentUnavailable(
                    f"replay: with several documents each must be a file ({doc})")
            if not Path(doc).is_file():
                raise DocumentUnavailable(f"replay: no such document: {doc}")
            paths.append(Path(doc).resolve())
        return Path(os.path.commonpath([p.parent for p in paths]))

    def _called_number(self, k: int) -> str:
        """The number caller k (1-based, by document) dials: To, To+1, ... when numeric."""
        to = self.options.to_number
        if k == 1:
            return to
        return str(int(to) + k - 1) if to.isdigit() else f"{to}{k}"

    def _on_hit(self, hit: HttpHit) -> None:
        call = hit.params.get("CallUUID", "")
        kind = "callback" if hit.path.startswith(CALLBACK_PREFIX) else "fetch"
        text = f"{kind} {hit.method} {hit.path} {_param_text(hit.params)}".rstrip()
        if call:
            self.transcript.call_line(call, text, hit.at)
        else:
            self.transcript.line("http", text, hit.at)
        if kind == "callback":
            self.callbacks_by_call.setdefault(call, []).append(hit)

    def _on_event(self, event: Event) -> None:
        if self.watch is not None:
            self.watch.on_event(event)
        if event.name not in SHOWN_EVENTS:
            return
        uid = event.unique_id
        if uid not in self.hangups:  # the daemon's own lines show the B leg; this is the caller
            return
        self._learn_b_leg(uid, event)
        detail = ""
        if event.name.startswith("CHANNEL_EXECUTE"):
            app = event.get("Application", "")
            data = event.get("Application-Data", "")
            detail = f"{app} {data}".strip()
            if event.name == "CHANNEL_EXECUTE_COMPLETE":
                detail += f" -> {event.get('Application-Response', '')}"
        elif event.name == "DTMF":
            detail = event.get("DTMF-Digit", "")
        elif event.name.startswith("CHANNEL_HANGUP"):
            detail = event.get("Hangup-Cause", "")
        self.transcript.line(self.transcript.labels[uid], f"fs {event.name} {detail}".rstrip())
        if event.name == "CHANNEL_HANGUP_COMPLETE" and uid in self.hangups:
            self.hangup_causes[uid] = event.get("Hangup-Cause", "")
            self.hangups[uid].set()

    def _settings(self, base_url: str, answer_url: str) -> Settings:
        """The daemon's settings: the --config file's (if any) under replay's own. No metrics
        server or control API (recordings are served by the web app, unless the file names record_base_url);
        a temporary state directory unless the file or environment names state_dir."""
        host, port = self.options.listen
        config = self.options.config_path
        base = Settings() if config is None else load_settings(config)
        fixed: dict = dict(
            listen_host=host,
            listen_port=port,
            answer_url=answer_url,
            hangup_url=f"{base_url}{CALLBACK_PREFIX}hangup",
            linger_s=2,
            log_json=False,
            freeswitch_password=self.options.password,
            metrics_port=0,
            api_port=0,  # nor the control API (a test run has no operator driving it)
        )
        if not base.record_base_url:
            fixed["record_base_url"] = f"{base_url}{recordings.URL_PATH}"
        if not _names_state_dir(config):
            self.temp_state_dir = tempfile.mkdtemp(prefix="plivoxml-fs-replay-")
            fixed["state_dir"] = self.temp_state_dir
        settings = attrs.evolve(base, **fixed)
        kept = "temporary, removed at the end" if self.temp_state_dir else f"from {config}"
        self.transcript.line("replay", f"state directory {settings.state_dir} ({kept})")
        return settings

    def _start_webapp(self, root: Path) -> WebApp:
        """The web app on --http-port; without it on the default port, or a free one when the
        default is taken (the XML it serves names its actual address either way)."""
        given, default = self.options.http_port, self.options.default_http_port
        named = f"http://{HTTP_HOST}:{default}"
        webapp = WebApp(root, default if given is None else given, self._on_hit, named)
        try:
            webapp.start()
        except OSError as exc:
            if given is not None or exc.errno != errno.EADDRINUSE:
                port = default if given is None else given
                raise ListenError((HTTP_HOST, port), "--http-port", exc) from None
            webapp = WebApp(root, 0, self._on_hit, named)
            webapp.start()
            self.transcript.line("replay", f"{HTTP_HOST}:{default} is taken: the web app took "
                                           f"{webapp.base_url}, and the XML it serves names it "
                                           f"where it names {named}")
        return webapp

    def start(self) -> None:
        root, url = self._document_url()
        self.webapp = self._start_webapp(root)
        base = self.webapp.base_url
        if self.options.other_documents:
            for k, doc in enumerate(self._documents(), start=1):
                self.webapp.answers[self._called_number(k)] = "/" + str(
                    Path(doc).resolve().relative_to(root))
            answer = f"{base}{ANSWER_PATH}"
        else:
            answer = url or f"{base}/{Path(self.options.document).name}"
        self.transcript.line("replay", f"web app on {base}, answer URL {answer}")
        settings = self._settings(base, answer)
        self.webapp.recordings = recordings.recordings_dir(settings)
        self.daemon = Daemon(settings)
        try:
            self.daemon.start_server()
        except ListenError as exc:  # the daemon's listen_host:listen_port is replay's --listen
            raise exc.named("--listen") from None
        if self.options.freeswitch is None:
            from plivoxml_fs.simulator import EmbeddedFreeSwitch

            self.simulator = EmbeddedFreeSwitch(
                socket_address=self.daemon.address, time_scale=self.options.time_scale
            )
            self.simulator.start()
            fs_host, fs_port = self.simulator.inbound_address[:2]
            self.transcript.line("replay", f"embedded FreeSWITCH, inbound ESL on {fs_host}:{fs_port}")
        else:
            fs_host, fs_port = self.options.freeswitch
            self.transcript.line("replay", f"FreeSWITCH at {fs_host}:{fs_port}")
        self.daemon.start_inbound(fs_host, fs_port)
        events = (*SHOWN_EVENTS, "BACKGROUND_JOB")
        if self.options.hearing or self.options.hangup_after_s is not None:
            record_dir = (Path(self.temp_state_dir) / "hearing" if self.temp_state_dir
                          else None)
            self.watch = HearingWatch(self, hearing=self.options.hearing,
                                      hangup_after_s=self.options.hangup_after_s,
                                      record_dir=record_dir)
            events = (*events, *HEARING_EVENTS)
        self.client = InboundClient(
            fs_host, fs_port, self.options.password,
            events=events, on_event=self._on_event,
            reconnect_min_s=0.2, reconnect_max_s=1.0, command_timeout_s=10.0,
        )
        self.client.start()
        if not self.client.wait_connected(FREESWITCH_WAIT_S):
            raise FreeSwitchUnreachable(
                f"replay: cannot reach FreeSWITCH's event socket at {fs_host}:{fs_port} within "
                f"{FREESWITCH_WAIT_S:g} s (the transcript's WARNING says why)")

    def stop(self) -> None:
        for part in (self.client,):
            if part is not None:
                part.stop()
        if self.daemon is not None:
            self.daemon.stop(drain_timeout_s=5.0)
        if self.simulator is not None:
            self.simulator.stop()
        if self.webapp is not None:
            self.webapp.stop()
        if self.watch is not None:
            self.watch.stop()
        if self.temp_state_dir is not None:
            shutil.rmtree(self.temp_state_dir, ignore_errors=True)

    # -- the calls ------------------------------------------------------------------------------
    def _originate(self, index: int, to_number: str, a_leg: str) -> str:
        """Start one test call with bgapi: originate only answers once the call is answered
        (or fails: a document that rejects the call makes it answer `-ERR USER_BUSY`)."""
        assert self.client is not None
        label = f"call{index}"
        self.transcript.set_label(a_leg, f"{label}/A")
        self.hangups[a_leg] = gevent.event.Event()
        dial = commands.originate(
            f"loopback/{to_number}/default",
            {"origination_uuid": a_leg, "origination_caller_id_number": self.options.from_number},
        )
        self.transcript.line(f"{label}/A", f"bgapi {dial}")
        self.originations.append(gevent.spawn(self._originate_result, label, dial))
        b_leg = self._find_b_leg(a_leg)
        if b_leg:
            self.transcript.set_label(b_leg, label)
        return a_leg

    def _originate_result(self, label: str, dial: str) -> None:
        assert self.client is not None
        try:
            result = self.client.bgapi(dial, timeout=self.options.call_timeout_s).body_text
        except PlivoXMLError as exc:
            result = f"no result: {exc}"
        self.transcript.line(f"{label}/A", f"originate -> {result.strip()}")

    def _find_b_leg(self, a_leg: str, wait_s: float = 5.0) -> str:
        """The loopback B leg (the call the daemon runs) once FreeSWITCH has created it; ""
        once the A leg has hung up (its hangup event labelled the B leg: `_learn_b_leg`)."""
        assert self.client is not None
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not self.hangups[a_leg].is_set():
            reply = self.client.api(
                f"uuid_getvar {a_leg} other_loopback_leg_uuid", timeout=5.0, check=False
            ).strip()
            if reply and not reply.startswith("-ERR") and reply != "_undef_":
                return reply
            gevent.sleep(0.005)
        return ""

    def _learn_b_leg(self, a_leg: str, event: Event) -> None:
        """Label the B leg from an A-leg event (its channel variable other_loopback_leg_uuid,
        which FreeSWITCH's loopback sets on both legs): a call that ends within milliseconds
        is gone before `_find_b_leg` can ask for it, but its A leg's hangup still names it."""
        b_leg = event.get("variable_other_loopback_leg_uuid", "")
        if b_leg and b_leg not in self.transcript.labels:
            self.transcript.set_label(b_leg, self.transcript.labels[a_leg].removesuffix("/A"))

    def _send_digits(self, a_leg: str) -> None:
        assert self.client is not None
        gevent.sleep(self.options.digits_delay_s)
        self.transcript.line(self.transcript.label(a_leg), f"api uuid_send_dtmf {a_leg} {self.options.digits}")
        self.client.api(f"uuid_send_dtmf {a_leg} {self.options.digits}", timeout=5.0)

    def run(self) -> ExitCode:
        """Place the calls, wait for each to end, print the verdict; the exit status."""
        documents = self._documents()
        numbers = [self._called_number(k) for k in range(1, len(documents) + 1)]
        plan = [to for to in numbers for _ in range(self.options.callers)]
        docs = [doc for doc in documents for _ in range(self.options.callers)]
        a_legs = [f"replay-{i}-{uuidlib.uuid4().hex[:8]}" for i in range(1, len(plan) + 1)]
        callers = cast([(f"call{i}", a) for i, a in enumerate(a_legs, start=1)], docs)
        for caller in callers:
            self.transcript.line("replay", f"{caller.label} runs {Path(caller.document).name}: "
                                           f"{caller.role.describe()}")
        for i, (a_leg, to) in enumerate(zip(a_legs, plan, strict=True), start=1):
            self._originate(i, to, a_leg)
        watching = None
        if self.watch is not None:
            watching = gevent.spawn(self.watch.run, callers)
        if self.options.digits:
            for a_leg in a_legs:
                gevent.spawn(self._send_digits, a_leg)
        failures = []
        for index, a_leg in enumerate(a_legs, start=1):
            if not self.hangups[a_leg].wait(self.options.call_timeout_s):
                failures.append(f"call{index}: still up after {self.options.call_timeout_s:.0f} s")
                self.client.api(f"uuid_kill {a_leg}", timeout=5.0)
        self._wait_for_hangup_callbacks(a_legs)
        gevent.joinall(self.originations, timeout=5.0)
        failures += self._verdicts(a_legs)
        if watching is not None:
            watching.kill()  # every call has ended: nothing more to measure or hang up
            failure = self.watch.verdict()
            if failure:
                failures.append(failure)
        return self._report(len(a_legs), failures)

    def _report(self, calls: int, failures: list[str]) -> ExitCode:
        """The end of the transcript: who hears whom (when measured), the warnings, then the
        failures or the count completed."""
        if self.watch is not None:
            self.watch.report()
        for call_uuid, text in self.warnings:
            self.transcript.line("replay", f"WARNING {self.transcript.label(call_uuid)}: {text}")
        for failure in failures:
            self.transcript.line("replay", f"FAILED {failure}")
        if failures:
            return ExitCode.CALL_FAILED
        warned = len(self.warnings)
        if not warned:
            self.transcript.line("replay", f"{calls} call(s) completed")
            return ExitCode.OK
        if self.options.strict:
            self.transcript.line("replay", f"FAILED (--strict) {calls} call(s) completed with "
                                           f"{warned} warning(s), listed above")
            return ExitCode.WARNINGS
        self.transcript.line("replay", f"{calls} call(s) completed, with {warned} warning(s) "
                                       f"listed above")
        return ExitCode.OK

    def _b_leg_of(self, a_leg: str) -> str:
        label = self.transcript.labels[a_leg].removesuffix("/A")
        return next((u for u, lab in self.transcript.labels.items() if lab == label), "")

    def _wait_for_hangup_callbacks(self, a_legs: list[str], timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        wanted = {self._b_leg_of(a) for a in a_legs}
        while time.monotonic() < deadline:
            got = {c for c, hits in self.callbacks_by_call.items()
                   if any(h.path.endswith("/hangup") for h in hits)}
            if wanted <= got:
                return
            gevent.sleep(0.05)

    def _verdicts(self, a_legs: list[str]) -> list[str]:
        failures = []
        for a_leg in a_legs:
            label = self.transcript.labels[a_leg].removesuffix("/A")
            b_leg = self._b_leg_of(a_leg)
            errors = self.errors.get(b_leg, [])
            hits = self.callbacks_by_call.get(b_leg, [])
            hangup = [h for h in hits if h.path.endswith("/hangup")]
            if errors:
                failures.append(f"{label}: {errors[0]}")
            elif not hangup:
                failures.append(f"{label}: no hangup callback arrived")
        return failures


def _names_state_dir(config_path: str | None) -> bool:
    """Whether the settings file (read after load_settings accepted it) or, with a file, the
    environment sets state_dir."""
    if config_path is None:
        return False
    if f"{ENV_PREFIX}STATE_DIR" in os.environ:
        return True
    return "state_dir" in tomllib.loads(Path(config_path).read_text("utf-8"))


def run_replay(options: ReplayOptions, out: TextIO | None = None) -> ExitCode:
    """Run one replay and return the process exit status (0: every call completed; without
    `strict`, warnings included; `out` defaults to the current sys.stdout)."""
    return run(Replay(options, out))


def run(replay: Replay) -> ExitCode:
    """Start `replay`, run its calls with the daemon's log feeding its transcript, stop it;
    the exit status (tests keep `replay` to look at what it saw)."""
    handler = _TranscriptHandler(replay)
    root = logging.getLogger("plivoxml_fs")
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        replay.start()
        return replay.run()
    finally:
        replay.stop()
        replay.transcript.flush()
        root.removeHandler(handler)
        root.setLevel(previous)
