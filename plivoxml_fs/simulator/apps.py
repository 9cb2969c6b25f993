"""Dialplan applications of the embedded FreeSWITCH, and the loop that runs queued commands.

`execute` runs one application the way switch_core_session_exec does: the current_* variables,
CHANNEL_EXECUTE, the application, CHANNEL_EXECUTE_COMPLETE with Application-Response (or
`_none_`) and Application-UUID. An unknown application fires nothing and hangs the channel up
with DESTINATION_OUT_OF_ORDER (checked on FreeSWITCH 1.10.12). `park_loop` is what a parked
channel does (the socket app in async mode, and `park`): it runs queued commands in order until
the channel hangs up.

`APPLICATIONS` maps a name to `func(channel, arg) -> Application-Response | None`; other parts
(the conference) add theirs with `application(name)`.
"""

from __future__ import annotations

import contextlib
import uuid as uuidlib
from collections.abc import Callable, Iterator

import attrs
import gevent
import gevent.event

from plivoxml_fs.simulator import unicast
from plivoxml_fs.simulator.audio import frame_ms, signal_of_piece
from plivoxml_fs.simulator.bus import Calling
from plivoxml_fs.simulator.causes import cause_from
from plivoxml_fs.simulator.channels import SAMPLES_PER_MS, Channel
from plivoxml_fs.simulator.media import speak_ms

EXECUTE = Calling("switch_core_session.c", "switch_core_session_exec", 2944)
EXECUTE_COMPLETE = Calling("switch_core_session.c", "switch_core_session_exec", 2967)
PARK = Calling("switch_ivr.c", "switch_ivr_park", 1002)
UNPARK = Calling("switch_ivr.c", "switch_ivr_park", 1213)

#: Media length of one audio frame (detect_silence counts frames), in ms.
FRAME_MS = 20
#: Digits that stop playback and speak when playback_terminators is unset (mod_dptools on_dtmf).
DEFAULT_TERMINATORS = "*"

AppFunc = Callable[[Channel, str], "str | None"]
APPLICATIONS: dict[str, AppFunc] = {}


@attrs.frozen
class Execute:
    """A queued `sendmsg` execute."""

    app: str
    arg: str = ""
    app_uuid: str = attrs.field(factory=lambda: str(uuidlib.uuid4()))
    loops: int = 1


@attrs.frozen
class HangupCommand:
    """A queued `sendmsg` hangup."""

    cause: str = "NORMAL_CLEARING"


def application(name: str) -> Callable[[AppFunc], AppFunc]:
    """Register an application under `name`."""

    def register(func: AppFunc) -> AppFunc:
        APPLICATIONS[name] = func
        return func

    return register


DONE, BROKEN, HUNG_UP = "done", "break", "hangup"


def wait_media(channel: Channel, ms: int | None, stop: gevent.event.Event | None = None) -> str:
    """Let `ms` of media time pass (None: until stopped).

    Returns DONE, BROKEN (uuid_break, or `stop` was set) or HUNG_UP, whichever came first.
    """
    if not channel.is_up:
        return HUNG_UP
    waits = [channel.hungup, channel.breaker] + ([stop] if stop is not None else [])
    timeout = None if ms is None else channel.sim.clock.wall_s(ms)
    gevent.wait(waits, timeout=timeout, count=1)
    if not channel.is_up:
        return HUNG_UP
    if channel.breaker.is_set() or (stop is not None and stop.is_set()):
        channel.breaker.clear()
        return BROKEN
    return DONE


@contextlib.contextmanager
def terminable(channel: Channel) -> Iterator[gevent.event.Event]:
    """While inside, a terminator digit (playback_terminators: default `*`, `any`, `none`) sets
    the yielded event and playback_terminator_used, as mod_dptools' on_dtmf does."""
    stop = gevent.event.Event()

    def on_dtmf(chan: Channel, digit: str) -> None:
        terminators = chan.get_var("playback_terminators") or DEFAULT_TERMINATORS
        if terminators.lower() == "any":
            terminators = "1234567890*#"
        if terminators.lower() == "none" or digit not in terminators or stop.is_set():
            return
        chan.set_var("playback_terminator_used", digit)
        stop.set()

    channel.set_var("playback_terminator_used", None)
    channel.dtmf_handlers.append(on_dtmf)
    try:
        yield stop
    finally:
        channel.dtmf_handlers.remove(on_dtmf)


def _app_headers(app: str, arg: str, app_uuid: str) -> list[tuple[str, str]]:
    items = [("Application", app)]
    if arg:
        items.append(("Application-Data", arg))
    items.append(("Application-UUID", app_uuid))
    return items


def start_app(channel: Channel, app: str, arg: str, app_uuid: str, loop: int, loops: int) -> None:
    """The variables and CHANNEL_EXECUTE before an application runs."""
    channel.breaker.clear()
    channel.set_var("current_application_response", None)
    channel.set_var("current_loop", str(loop))
    channel.set_var("total_loops", str(loops))
    channel.set_var("current_application", app)
    channel.set_var("current_application_data", arg or None)
    channel.fire("CHANNEL_EXECUTE", EXECUTE, _app_headers(app, arg, app_uuid))
    if arg:
        channel.set_var("current_application_data", arg)
        channel.set_var("current_application", app)
    channel.current_app, channel.current_arg = app, arg or None


def complete_app(channel: Channel, app: str, arg: str, app_uuid: str, response: str | None):
    """CHANNEL_EXECUTE_COMPLETE after an application ran."""
    extra = _app_headers(app, arg, app_uuid)
    extra.insert(-1, ("Application-Response", response or "_none_"))
    channel.fire("CHANNEL_EXECUTE_COMPLETE", EXECUTE_COMPLETE, extra)


def execute(channel: Channel, command: Execute) -> None:
    """Run one application as switch_core_session_exec does (with `loops`)."""
    func = APPLICATIONS.get(command.app)
    if func is None:
        channel.hangup("DESTINATION_OUT_OF_ORDER")
        return
    for loop in range(1, command.loops + 1):
        if not channel.is_up:
            return
        start_app(channel, command.app, command.arg, command.app_uuid, loop, command.loops)
        response = func(channel, command.arg)
        complete_app(channel, command.app, command.arg, command.app_uuid, response)


def run_command(channel: Channel, command: Execute | HangupCommand) -> None:
    if isinstance(command, HangupCommand):
        channel.hangup(command.cause)
    else:
        execute(channel, command)


def park_loop(channel: Channel, done: Callable[[], bool] = lambda: False) -> None:
    """Run queued commands in order until the channel hangs up or `done()` (socket gone).

    A parked channel looks at its queue once a frame (20 ms of media), so a command starts
    that long after its `+OK`, and commands sent together are all answered first, as on
    FreeSWITCH.
    """
    try:
        while channel.is_up and not done():
            unicast.serve(channel)  # a unicast sendmsg runs only while parked
            command = channel.commands.get()
            if command is None:
                continue
            gevent.sleep(channel.sim.clock.wall_s(FRAME_MS))
            if not channel.is_up:
                return
            run_command(channel, command)
    finally:
        unicast.stop(channel)


def wake(channel: Channel) -> None:
    """Wake a parked channel so it re-checks whether to go on (hangup, socket gone)."""
    channel.commands.put(None)


# -- the applications --------------------------------------------------------------------------
@application("answer")
def _answer(channel: Channel, arg: str) -> None:
    channel.mark_answered()


@application("pre_answer")
def _pre_answer(channel: Channel, arg: str) -> None:
    channel.mark_pre_answered()


@application("park")
def _park(channel: Channel, arg: str) -> None:
    channel.fire("CHANNEL_PARK", PARK)
    park_loop(channel)
    channel.fire("CHANNEL_UNPARK", UNPARK)


@application("set")
def _set(channel: Channel, arg: str) -> None:
    name, _, value = arg.partition("=")
    if name.strip():
        channel.set_var(name.strip(), value or None)


@application("multiset")
def _multiset(channel: Channel, arg: str) -> None:
    """`multiset a=1 b=2`, or with `^^<sep>` first any one-character separator, each piece
    as `set` takes it (1.10.12 groups on single quotes and escapes with backslashes: the
    daemon never sends those to multiset, fs/commands.conference_variables, so not modelled)."""
    sep = " "
    if arg.startswith("^^") and len(arg) > 2:
        sep, arg = arg[2], arg[3:]
    for piece in arg.split(sep):
        if piece:
            _set(channel, piece)


@application("export")
def _export(channel: Channel, arg: str) -> None:
    name, _, value = arg.partition("=")
    name = name.strip()
    if name:
        channel.set_var(name, value or None)
        exported = [v for v in (channel.get_var("export_vars") or "").split(",") if v]
        if name not in exported:
            channel.set_var("export_vars", ",".join([*exported, name]))


@application("log")
def _log(channel: Channel, arg: str) -> None:
    return None


@application("hangup")
def _hangup(channel: Channel, arg: str) -> None:
    channel.hangup(cause_from(arg) if arg.strip() else "NORMAL_CLEARING")


@application("sched_hangup")
def _sched_hangup(channel: Channel, arg: str) -> None:
    when, _, cause_text = arg.strip().partition(" ")
    cause = cause_from(cause_text) if cause_text.strip() else "ALLOTTED_TIMEOUT"
    try:
        seconds = int(when.lstrip("+"))
    except ValueError:
        return None
    if not when.startswith("+"):
        seconds = seconds - channel.sim.clock.now_us() // 1_000_000
    gevent.spawn_later(channel.sim.clock.wall_s(max(seconds, 0) * 1000), channel.hangup, cause)
    return None


@application("sleep")
def _sleep(channel: Channel, arg: str) -> None:
    try:
        ms = int(arg.strip())
    except ValueError:
        return None
    if ms > 0:
        start = channel.sim.clock.now_us()
        if _sleep_media(channel, ms) == DONE:
            channel.record("slept", f"{ms} ms", ms)
        else:
            heard = (channel.sim.clock.now_us() - start) // 1000
            channel.record("slept", f"{heard} ms of {ms} ms", heard)
    return None


def _sleep_media(channel: Channel, ms: int) -> str:
    """sleep_eat_digits=true: the sleep reads digits and a terminator ends it (mod_dptools
    sleep_function with on_dtmf); else digits wait for whoever reads them next."""
    if (channel.get_var("sleep_eat_digits") or "").lower() not in ("true", "yes", "on", "1"):
        return wait_media(channel, ms)
    with terminable(channel) as stop:
        return wait_media(channel, ms, stop)


@application("detect_silence")
def _detect_silence(channel: Channel, arg: str) -> None:
    parts = arg.split()
    try:
        thresh, hits, timeout_ms = (int(p) for p in parts[:3])
    except ValueError:
        return None
    if len(parts) < 3 or thresh <= 0 or hits <= 0:
        return None
    ms = hits * FRAME_MS if timeout_ms <= 0 else min(hits * FRAME_MS, timeout_ms)
    wait_media(channel, ms)
    channel.record("silence", f"{ms} ms", ms)
    return None


@application("playback")
def _playback(channel: Channel, arg: str) -> str:
    """FILE PLAYED (also when uuid_break stops it); FILE NOT FOUND (file_string: only when every
    piece is missing); PLAYBACK ERROR for an empty argument or a hangup mid-way (FreeSWITCH
    1.10.12 and mod_dptools' playback_function)."""
    arg = arg.strip()
    if not arg:
        return _set_response(channel, "PLAYBACK ERROR")
    if not channel.answered_us:
        channel.mark_pre_answered()  # switch_ivr_play_file does, before opening the file
    pieces = channel.sim.media.pieces(arg)
    if not any(piece.found for piece in pieces):
        for piece in pieces:
            channel.record("file_not_found", piece.source)
        return _set_response(channel, "FILE NOT FOUND")
    with terminable(channel) as stop:
        total, response = _play_pieces(channel, pieces, stop)
    samples = total * SAMPLES_PER_MS
    channel.set_var("playback_last_offset_pos", str(samples))
    channel.set_var("playback_seconds", str(total // 1000))
    channel.set_var("playback_ms", str(total))
    channel.set_var("playback_samples", str(samples))
    return _set_response(channel, response)


#: Called as `hook(channel, piece)` when a channel starts playing a found piece (the
#: conference makes the loopback partner's member talk while it lasts).
PLAYBACK_HOOKS: list[Callable] = []


def _play_pieces(channel: Channel, pieces, stop) -> tuple[int, str]:
    total, response = 0, "FILE PLAYED"
    for piece in pieces:
        if not piece.found:
            channel.record("file_not_found", piece.source)
            continue
        for hook in PLAYBACK_HOOKS:
            hook(channel, piece)
        start = channel.sim.clock.now_us()
        sent_at = frame_ms(start // 1000)
        segment = channel.audio.sent.start(signal_of_piece(piece), sent_at, piece.ms)
        outcome = wait_media(channel, piece.ms, stop)
        ms = piece.ms if outcome == DONE else (channel.sim.clock.now_us() - start) // 1000
        channel.audio.sent.stop(segment, sent_at + (ms or 0))
        total += ms or 0
        channel.record("played", f"{piece.source} ({ms} ms)", ms)
        if outcome == HUNG_UP:
            response = "PLAYBACK ERROR"
        if outcome != DONE:
            break
    return total, response


def _set_response(channel: Channel, response: str) -> str:
    channel.set_var("current_application_response", response)
    return response


@application("speak")
def _speak(channel: Channel, arg: str) -> None:
    parts = arg.split("|", 2)
    if len(parts) < 3:
        # no engine|voice| prefix and no tts_engine variable: FreeSWITCH hangs up
        channel.hangup("DESTINATION_OUT_OF_ORDER")
        return None
    if parts[0] != "flite" or not parts[2].strip():
        return None
    if not channel.answered_us:
        channel.mark_pre_answered()
    text = parts[2]
    ms = speak_ms(text)
    with terminable(channel) as stop:
        finished = wait_media(channel, ms, stop) == DONE
    channel.record("spoke", text if finished else f"{text} (interrupted)", ms)
    return None


#: `send_dtmf` pauses (switch_core_session_send_dtmf_string): `w` 500 ms, `W` 1 s.
SEND_DTMF_PAUSES_MS = {"w": 500, "W": 1000}


@application("send_dtmf")
def _send_dtmf(channel: Channel, arg: str) -> None:
    """Digits sent out to the far end (the loopback partner receives them as DTMF), pauses
    for `w`/`W` in between, as mod_dptools' send_dtmf does; returns once they are sent."""
    target = channel.partner or channel
    for char in arg.strip():
        pause_ms = SEND_DTMF_PAUSES_MS.get(char)
        if pause_ms is not None:
            if wait_media(channel, pause_ms) != DONE:
                return None
        elif char.upper() in "0123456789*#ABCD" and target.is_up:
            target.receive_dtmf(char.upper())
    return None
