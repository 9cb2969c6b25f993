"""`sendmsg` call-command `unicast`: a parked channel's audio to and from a UDP address.

As FreeSWITCH 1.10.12 does it (checked on it, tests/fs/test_unicast_real.py): the headers
`local-ip`, `local-port` (where FreeSWITCH binds and reads), `remote-ip`, `remote-port` (where
it sends) and `transport: udp`. While the channel is parked, every 20 ms frame it *receives* is
sent as one datagram of 320 bytes (16-bit little-endian samples at 8000 Hz, the loopback
codec's L16), from the local port; silence goes out as zero frames, so a frame leaves every
20 ms whatever the room does. Datagrams arriving on the local port (from any source address)
are what the channel *sends*: FreeSWITCH reads the socket once a frame, and what arrives faster
than one datagram per 20 ms is not queued for later (bursts of 25 and 50 datagrams were heard
as 2 to 4 frames), so the sender paces. Here each frame plays the oldest datagram that arrived during
the frame before it, keeping at most KEPT (2) for the next frames: two datagrams in one frame
(a late one and the next) are both heard, a burst is heard as 2 frames.

Unicast runs only in the park loop (simulator/apps.py calls `serve` once a frame there).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from array import array

import gevent
import gevent.socket

from plivoxml_fs.simulator.audio import FRAME_MS, Signal, frame_ms, now_ms, received, to_pcm

log = logging.getLogger("plivoxml_fs.simulator")

#: Samples per frame and bytes per datagram (L16 at 8000 Hz, 20 ms).
RATE = 8000
FRAME_SAMPLES = RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2
#: Datagrams kept for the next frames: one frame of jitter is absorbed, a burst is not.
KEPT = 2


def _samples(data: bytes) -> array:
    frame = array("h")
    frame.frombytes(data[: len(data) // 2 * 2])
    if sys.byteorder != "little":
        frame.byteswap()
    return frame


class LiveSignal(Signal):
    """Frames written as they arrive: frame index (media ms // 20) -> 8 kHz samples."""

    ms = None

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self.frames: dict[int, array] = {}

    def write(self, at_ms: int, data: bytes) -> None:
        self.frames[at_ms // FRAME_MS] = _samples(data)

    def render(self, offset: int, count: int, rate: int) -> list[int]:
        out = [0] * count
        for n in range(count):
            ms8k = (offset + n) * RATE // rate  # 8 kHz sample index since start
            frame = self.frames.get(self.start_ms // FRAME_MS + ms8k // FRAME_SAMPLES)
            if frame is not None:
                k = ms8k % FRAME_SAMPLES
                if k < len(frame):
                    out[n] = frame[k]
        return out


def request(channel, command) -> None:
    """Remember a unicast sendmsg on `channel`; the park loop starts it."""
    try:
        local = (command.get("local-ip") or "127.0.0.1", int(command.get("local-port") or 8025))
        remote = (command.get("remote-ip") or "127.0.0.1", int(command.get("remote-port") or 8026))
    except ValueError:
        log.warning("unicast on %s: a port is not a number", channel.uuid)
        return
    channel.unicast = Pump(channel, local, remote)
    channel.commands.put(None)  # wake the park loop


def serve(channel) -> None:
    """Called by the park loop: start the channel's unicast if one was asked for."""
    pump = getattr(channel, "unicast", None)
    if pump is not None and pump.greenlet is None:
        pump.start()


def stop(channel) -> None:
    """The park loop ended: unicast stops with it."""
    pump = getattr(channel, "unicast", None)
    if pump is not None:
        pump.stop()
        channel.unicast = None


class Pump:
    """One channel's unicast: a frame out and a frame in every 20 ms of media time."""

    def __init__(self, channel, local: tuple[str, int], remote: tuple[str, int]) -> None:
        self.channel = channel
        self.local, self.remote = local, remote
        self.greenlet: gevent.Greenlet | None = None
        self.sock = None
        self.signal: LiveSignal | None = None
        self.segment = None
        self.pending: list[bytes] = []

    def start(self) -> None:
        sock = gevent.socket.socket(gevent.socket.AF_INET, gevent.socket.SOCK_DGRAM)
        try:
            sock.bind(self.local)
        except OSError as exc:
            log.warning("unicast on %s: cannot bind %s:%s (%s)", self.channel.uuid,
                        *self.local, exc)
            sock.close()
            self.greenlet = gevent.spawn(lambda: None)
            return
        sock.setblocking(False)
        self.sock = sock
        start = frame_ms(now_ms(self.channel.sim)) + FRAME_MS
        self.signal = LiveSignal(start)
        self.segment = self.channel.audio.sent.start(self.signal, start, None)
        self.greenlet = gevent.spawn(self._run, start)

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)
        if self.segment is not None:
            self.segment.end_ms = max(self.segment.start_ms, frame_ms(now_ms(self.channel.sim)))
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _run(self, t: int) -> None:
        sim = self.channel.sim
        while self.channel.is_up:
            wait = t + FRAME_MS - now_ms(sim)
            if wait > 0:
                gevent.sleep(sim.clock.wall_s(wait))
                continue
            samples = received(self.channel, t, t + FRAME_MS, RATE)
            out = to_pcm(samples) if samples else bytes(FRAME_BYTES)
            with contextlib.suppress(OSError):
                self.sock.sendto(out, self.remote)
            while True:
                try:
                    data, _ = self.sock.recvfrom(4096)
                except (BlockingIOError, OSError):
                    break
                self.pending.append(data)
            del self.pending[:-KEPT]
            if self.pending:
                self.signal.write(t + FRAME_MS, self.pending.pop(0))
            t += FRAME_MS
