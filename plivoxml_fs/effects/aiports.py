"""The UDP addresses of AI participants' media (FreeSWITCH's unicast <-> the daemon), from
the settings `ai_media_*` (docs/ai-agent.md, "Media addresses and ports").

With a port range, each participant takes a pair: the even port is FreeSWITCH's (unicast's
`local-port`, bound by FreeSWITCH on `ai_media_freeswitch_ip`), the odd one the daemon's (bound
here on `ai_media_daemon_ip`, unicast's `remote-port`). Without one (0/0), FreeSWITCH's is a
port free on this host now and the daemon's an ephemeral one: FreeSWITCH beside the daemon.
"""

from __future__ import annotations

import errno
import ipaddress
import threading

import attrs
from gevent import socket


class PortsExhausted(Exception):
    """Every pair of the range is taken (or busy on this host)."""


def _ipv4(host: str) -> str:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return "127.0.0.1"
    return str(addr) if addr.version == 4 and not addr.is_unspecified else "127.0.0.1"


def addresses(settings) -> tuple[str, str]:
    """(FreeSWITCH's media IP, the daemon's media IP)."""
    return (settings.ai_media_freeswitch_ip or _ipv4(settings.freeswitch_host),
            settings.ai_media_daemon_ip or _ipv4(settings.listen_host))


@attrs.define
class Lease:
    """A participant's media addresses: `fs` (FreeSWITCH reads there), `udp` (the daemon's
    bound socket, FreeSWITCH's remote). `release()` when the participant is gone."""

    fs: tuple[str, int]
    udp: socket.socket
    pool: PortPool | None = None

    def release(self) -> None:
        if self.pool is not None:
            self.pool.give_back(self.fs[1])
            self.pool = None


def _bind(host: str, port: int) -> socket.socket | None:
    """A UDP socket bound to (host, port); None when that port is in use here."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            return None
        raise
    return sock


def _busy_here(host: str, port: int) -> bool:
    """True when `port` is taken on `host` and `host` is this machine's (FreeSWITCH beside us);
    a host that is not ours (FreeSWITCH elsewhere) cannot be probed: False."""
    try:
        probe = _bind(host, port)
    except OSError:  # EADDRNOTAVAIL: not an address of this host
        return False
    if probe is None:
        return True
    probe.close()
    return False


class PortPool:
    """The pairs of one range, handed out and given back (thread- and greenlet-safe)."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self._taken: set[int] = set()
        self._lock = threading.Lock()

    @property
    def pairs(self) -> int:
        return (self.high - self.low + 1) // 2

    def take(self, fs_ip: str, our_ip: str) -> Lease:
        with self._lock:
            for even in range(self.low, self.high, 2):
                if even in self._taken or _busy_here(fs_ip, even):
                    continue
                sock = _bind(our_ip, even + 1)
                if sock is None:
                    continue
                self._taken.add(even)
                return Lease((fs_ip, even), sock, self)
        raise PortsExhausted(
            f"no free AI media port pair in ai_media_port_min..max {self.low}..{self.high} "
            f"({len(self._taken)} of {self.pairs} pairs in use by AI participants)")

    def give_back(self, even: int) -> None:
        with self._lock:
            self._taken.discard(even)


_POOLS: dict[tuple[int, int], PortPool] = {}


def lease(settings) -> Lease:
    """The media addresses of a new AI participant (PortsExhausted when the range is full)."""
    fs_ip, our_ip = addresses(settings)
    low, high = settings.ai_media_port_min, settings.ai_media_port_max
    if low and high:
        pool = _POOLS.setdefault((low, high), PortPool(low, high))
        return pool.take(fs_ip, our_ip)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((our_ip, 0))
    return Lease((fs_ip, _free_udp_port(fs_ip)), sock)


def _free_udp_port(host: str) -> int:
    """A UDP port free on `host` now (FreeSWITCH binds it: the daemon beside FreeSWITCH)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
