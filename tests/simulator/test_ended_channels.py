"""What the embedded FreeSWITCH keeps of ended channels: the last `ended_kept`, oldest forgotten."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from click.testing import CliRunner
from gevent.server import StreamServer

from plivoxml_fs import simulator
from plivoxml_fs.cli import main
from plivoxml_fs.simulator import EmbeddedFreeSwitch
from plivoxml_fs.simulator.server import ENDED_KEPT, SIMULATE_ENDED_KEPT
from simulator.helpers import WAIT_S


@pytest.fixture
def refusing_daemon():
    """A daemon address that accepts each call and closes it at once: the call ends."""
    server = StreamServer(("127.0.0.1", 0), lambda sock, address: None)
    server.start()
    yield server.address[:2]
    server.stop(timeout=1)


def _calls(fs: EmbeddedFreeSwitch, count: int) -> list[str]:
    """Place `count` calls and wait for both legs of each to end; the A-leg uuids."""
    a_legs = []
    for _ in range(count):
        a_leg = fs.channel(fs.originate("loopback/e/default"))
        legs = [c for c in fs.channels.values() if c is not a_leg] + [a_leg]
        for leg in legs:
            assert leg.destroyed.wait(WAIT_S), f"{leg.uuid} did not end"
        a_legs.append(a_leg.uuid)
    return a_legs


def test_only_the_last_ended_channels_are_kept(refusing_daemon, tmp_path):
    """With ended_kept=4, after five calls (ten channels) the last four are kept, oldest first."""
    fs = EmbeddedFreeSwitch(socket_address=refusing_daemon, time_scale=0.02,
                            media_dir=str(tmp_path), ended_kept=4)
    fs.start()
    try:
        a_legs = _calls(fs, 5)
        assert len(fs.ended_channels) == 4
        assert fs.channel(a_legs[0]) is None
        assert fs.channel(a_legs[-1]).hangup_cause
        assert a_legs[-1] in fs.ended_channels and a_legs[-2] in fs.ended_channels
    finally:
        fs.stop()


def test_memory_stays_flat_once_the_bound_is_reached(refusing_daemon, tmp_path):
    """Past the bound, the simulator's memory does not grow with the calls it has seen."""
    fs = EmbeddedFreeSwitch(socket_address=refusing_daemon, time_scale=0.02,
                            media_dir=str(tmp_path), ended_kept=4)
    fs.start()
    only_simulator = [tracemalloc.Filter(True, "*plivoxml_fs/simulator/*")]

    def simulator_bytes() -> int:
        gc.collect()
        return sum(s.size for s in tracemalloc.take_snapshot().filter_traces(only_simulator)
                   .statistics("filename"))

    tracemalloc.start()
    try:
        _calls(fs, 10)
        before = simulator_bytes()
        _calls(fs, 40)
        per_call = (simulator_bytes() - before) / 40
    finally:
        tracemalloc.stop()
        fs.stop()
    assert per_call < 512, f"{per_call:.0f} bytes a call"


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_a_bad_bound_is_refused(bad):
    """ended_kept must be an integer >= 0; anything else is refused, naming the value."""
    with pytest.raises(ValueError) as info:
        EmbeddedFreeSwitch(ended_kept=bad)
    assert str(info.value) == f"simulator ended_kept: must be an integer >= 0 (got {bad!r})"


def test_simulate_keeps_a_small_bound(monkeypatch):
    """`plivoxml-fs simulate` (the long-running stand-in) keeps SIMULATE_ENDED_KEPT ended
    channels, far fewer than the default tests and replay use."""
    made = []

    class Recorder:
        def __init__(self, **kwargs):
            made.append(kwargs)

        def start(self):
            raise OSError(98, "Address already in use")

    monkeypatch.setattr(simulator, "EmbeddedFreeSwitch", Recorder)
    CliRunner().invoke(main, ["simulate", "--listen", "127.0.0.1:18021"])
    assert [m["ended_kept"] for m in made] == [SIMULATE_ENDED_KEPT]
    assert SIMULATE_ENDED_KEPT <= 100 < ENDED_KEPT
