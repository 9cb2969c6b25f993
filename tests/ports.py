"""A TCP port on 127.0.0.1 that nothing listens on, for a test to listen on a moment later.

Not one the kernel hands out for port 0: those come from its ephemeral range (32768-60999
here), which every outgoing connection takes its local port from too, so one of the suite's
own loopback connections could take the port between the pick and the listen (CI lost a
control API's bind that way: "Address already in use"). These come from below it, and below
the RTP ports `.ci/run` gives its FreeSWITCHes (20000 up), drawn by the system's random source
(pytest-randomly seeds `random` alike in every worker, which would draw them all the same).
"""

from __future__ import annotations

import random
import socket

LOW, HIGH = 10000, 19999
_DRAW = random.SystemRandom()


def unused_port(*besides: int) -> int:
    """A port in LOW..HIGH, none of `besides`, that binds now."""
    while True:
        port = _DRAW.randint(LOW, HIGH)
        if port in besides:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
