"""`uuid_record` and `uuid_broadcast` on one loopback call, written once, run on the embedded
FreeSWITCH (test_leg_record.py) and on a real one (tests/fs/test_hearing_real.py).

The call: `originate loopback/<tag>/default &park`; its B leg answered and parked by the test
standing where the daemon would. The inbound wire is subscribed to RECORD_START, RECORD_STOP and
CHANNEL_HANGUP_COMPLETE.
"""

from __future__ import annotations

from pathlib import Path

from waiting import until

from plivoxml_fs.testing import read_wav, tone_levels
from simulator.conference_helpers import api
from simulator.helpers import execute

EVENTS = "RECORD_START RECORD_STOP CHANNEL_HANGUP_COMPLETE"
USAGE = "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"


def parked_call(wire, daemon, tag: str) -> tuple[str, str]:
    """(A-leg uuid, B-leg uuid) of a call whose B leg is answered and parked."""
    wire.send(f"bgapi originate {{origination_uuid=aleg-{tag}}}loopback/{tag}/default &park")
    call = daemon.next_call()
    b_leg = call.command("connect").get("Unique-ID")
    call.command("myevents")
    execute(call, "answer")
    execute(call, "park")
    a_leg = f"aleg-{tag}"
    # media sent before the A leg parks is lost (FreeSWITCH 1.10.12: a broadcast to a leg still
    # in CS_CONSUME_MEDIA never plays)
    _until(lambda: api(wire, f"uuid_getvar {a_leg} current_application").strip() == "park",
           "the A leg to park")
    return a_leg, b_leg


def _until(ready, what: str, timeout_s: float = 10.0):
    return until(what, ready, timeout_s, poll_s=0.02)


def _events(wire, a_leg: str) -> list[str]:
    """`NAME path cause state` of the record events and the A leg's hangup completion."""
    out = []
    for _, message in wire.received:
        if not message.is_event:
            continue
        event = message.event()
        if event.get("Unique-ID") != a_leg:
            continue
        if event.name == "CHANNEL_HANGUP_COMPLETE":
            out.append(event.name)
        elif event.name in ("RECORD_START", "RECORD_STOP"):
            path = Path(event.get("Record-File-Path", "")).name
            cause = event.get("Record-Completion-Cause") or ""
            out.append(" ".join(p for p in (event.name, path, cause, event.get("Channel-State"))
                                if p))
    return out


def _wait_event(wire, text: str, a_leg: str) -> None:
    """Wait for `text` among the A leg's events; a hangup of the A leg that nothing here asked
    for fails at once, naming its cause (a FreeSWITCH shared with another client: its
    `hupall` or uuid_kill; a missed limit would otherwise look like FreeSWITCH's)."""
    def seen():
        while not wire.quiet(0.05):
            pass
        events = _events(wire, a_leg)
        if text in events:
            return True
        if text != "CHANNEL_HANGUP_COMPLETE" and "CHANNEL_HANGUP_COMPLETE" in events:
            raise AssertionError(f"{a_leg} was hung up ({_hangup_cause(wire, a_leg)}) before "
                                 f"{text}; its events: {events}")
        return False

    try:
        _until(seen, text)
    except AssertionError as exc:  # say what did come, and what the leg still records
        bugs = api(wire, f"uuid_buglist {a_leg}").strip()
        raise AssertionError(f"{exc}; {a_leg}'s events: {_events(wire, a_leg)}; "
                             f"its media bugs: {bugs[:400]}") from None


def _hangup_cause(wire, a_leg: str) -> str:
    for _, message in wire.received:
        if message.is_event:
            event = message.event()
            if event.name == "CHANNEL_HANGUP_COMPLETE" and event.get("Unique-ID") == a_leg:
                return event.get("Hangup-Cause") or "no cause"
    return "no cause"


def uuid_record_replies_and_events(wire, daemon, record_dir: Path, tag: str) -> None:
    """uuid_record's replies (usage, unknown session, nothing to stop, unknown format, a path
    started twice), the limit, stop all, and RECORD_STOP at hangup in CS_HANGUP, before the
    leg's CHANNEL_HANGUP_COMPLETE, with the record_* variables set.

    The limit is 2 s, not 1: FreeSWITCH's limit is whole epoch seconds (a limit of N ends the
    recording N-1 to N s after it started), so 1 s could end it before it captured a frame,
    and a recording with no samples is discarded with `empty-file`, not `success-maxtime`
    (1.10.12; seen in about 1 run in 50 under load)."""
    record_dir.mkdir(parents=True, exist_ok=True)
    a_leg, _ = parked_call(wire, daemon, tag)
    one, two, three = (record_dir / f"{tag}-{n}.wav" for n in (1, 2, 3))
    replies = [api(wire, command) for command in (
        "uuid_record", f"uuid_record {a_leg}", f"uuid_record nosuch-{tag} start {one}",
        f"uuid_record {a_leg} stop {one}", f"uuid_record {a_leg} bogus {one}",
        f"uuid_record {a_leg} start {one}", f"uuid_record {a_leg} start {one}",
        f"uuid_record {a_leg} start {record_dir / 'x.xyz'}", f"uuid_record {a_leg} start {two} 2",
    )]
    assert replies == [
        USAGE, USAGE, "-ERR Cannot locate session!\n", "-ERR Cannot stop record session!\n",
        USAGE, "+OK Success\n", "+OK Success\n", "-ERR Cannot record session!\n",
        "+OK Success\n",
    ]
    _wait_event(wire, f"RECORD_STOP {two.name} success-maxtime CS_EXECUTE", a_leg)
    assert api(wire, f"uuid_record {a_leg} stop {one}") == "+OK Success\n"
    assert api(wire, f"uuid_record {a_leg} stop all") == "-ERR Cannot stop record session!\n"
    assert api(wire, f"uuid_record {a_leg} start {three}") == "+OK Success\n"
    _wait_event(wire, f"RECORD_START {three.name} CS_EXECUTE", a_leg)
    api(wire, f"uuid_kill {a_leg}")
    _wait_event(wire, "CHANNEL_HANGUP_COMPLETE", a_leg)
    assert _events(wire, a_leg) == [
        f"RECORD_START {one.name} CS_EXECUTE", f"RECORD_START {two.name} CS_EXECUTE",
        f"RECORD_STOP {two.name} success-maxtime CS_EXECUTE",
        f"RECORD_STOP {one.name} success-maxtime CS_EXECUTE",
        f"RECORD_START {three.name} CS_EXECUTE",
        f"RECORD_STOP {three.name} success-silence CS_HANGUP", "CHANNEL_HANGUP_COMPLETE",
    ]
    (stop,) = [m.event() for _, m in wire.received if m.is_event
               and m.event().name == "RECORD_STOP" and m.event().get("Record-File-Path") == str(two)]
    names = [name for name in stop.headers if name.startswith("variable_record_")]
    assert names == ["variable_record_file_size", "variable_record_samples",
                     "variable_record_seconds", "variable_record_ms",
                     "variable_record_completion_cause"]
    assert int(stop["variable_record_samples"]) == int(stop["variable_record_ms"]) * 8
    assert int(stop["variable_record_file_size"]) == Path(two).stat().st_size
    assert list(stop.headers)[-2:] == ["Record-File-Path", "Record-Completion-Cause"]


def record_modes_and_broadcast_legs(wire, daemon, record_dir: Path, tag: str) -> None:
    """What a leg recording holds: by default what the A leg receives and sends, summed;
    RECORD_READ_ONLY what it receives, RECORD_WRITE_ONLY what it sends, RECORD_STEREO receives
    left and sends right. `uuid_broadcast <A> <tone> bleg|both` never reaches the B leg."""
    record_dir.mkdir(parents=True, exist_ok=True)
    a_leg, b_leg = parked_call(wire, daemon, tag)
    flags = ("RECORD_READ_ONLY", "RECORD_WRITE_ONLY", "RECORD_STEREO")
    found = {}
    for mode, flag in (("mixed", None), ("read", flags[0]), ("write", flags[1]),
                       ("stereo", flags[2])):
        for name in flags:
            api(wire, f"uuid_setvar {a_leg} {name}" + (" true" if name == flag else ""))
        path = record_dir / f"{tag}-{mode}.wav"
        assert api(wire, f"uuid_record {a_leg} start {path}") == "+OK Success\n"
        _play(wire, a_leg, "tone_stream://%(1000,0,500)", "aleg")
        _play(wire, b_leg, "tone_stream://%(1000,0,800)", "aleg")
        _until(lambda a=a_leg, b=b_leg: _played(wire, a) and _played(wire, b), "the tones")
        assert api(wire, f"uuid_record {a_leg} stop {path}") == "+OK Success\n"
        found[mode] = _levels(path, _until(lambda p=path: _channels(p), f"{path}"))
    heard, said = {"500": False, "800": True}, {"500": True, "800": False}
    assert found == {"mixed": [{"500": True, "800": True}], "read": [heard],
                     "write": [said], "stereo": [heard, said]}
    for name in flags:
        api(wire, f"uuid_setvar {a_leg} {name}")
    api(wire, f"uuid_setvar {a_leg} RECORD_READ_ONLY true")
    path = record_dir / f"{tag}-legs.wav"
    api(wire, f"uuid_record {a_leg} start {path}")
    _play(wire, a_leg, "tone_stream://%(1000,0,1200)", "bleg")
    _play(wire, a_leg, "tone_stream://%(1000,0,1700)", "both")
    _until(lambda: _played(wire, a_leg), "the tone on the A leg")
    api(wire, f"uuid_record {a_leg} stop {path}")
    assert _levels(path, _until(lambda: _channels(path), f"{path}"), (1200, 1700)) == [
        {"1200": False, "1700": False}]
    api(wire, f"uuid_kill {a_leg}")


def _play(wire, uuid: str, tone: str, legs: str) -> None:
    api(wire, f"uuid_setvar {uuid} playback_ms")
    assert api(wire, f"uuid_broadcast {uuid} {tone} {legs}") == "+OK Message sent\n"


def _played(wire, uuid: str) -> bool:
    return api(wire, f"uuid_getvar {uuid} playback_ms").strip() not in ("", "_undef_")


def _channels(path: Path) -> int:
    import wave

    try:
        with wave.open(str(path)) as wav:
            return wav.getnchannels() if wav.getnframes() else 0
    except (OSError, EOFError, wave.Error):
        return 0


def _levels(path: Path, channels: int, freqs=(500, 800)) -> list[dict[str, bool]]:
    """Per channel of the file: each frequency heard (at -30 dBFS or more)."""
    import wave
    from array import array

    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        data = array("h")
        data.frombytes(wav.readframes(wav.getnframes()))
    out = []
    for index in range(channels):
        levels = tone_levels(list(data[index::channels]), rate, freqs)
        out.append({str(hz): level >= -30 for hz, level in levels.items()})
    return out


__all__ = ["EVENTS", "parked_call", "read_wav", "record_modes_and_broadcast_legs",
           "uuid_record_replies_and_events"]
