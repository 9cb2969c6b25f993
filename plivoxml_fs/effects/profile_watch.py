"""The start check of FreeSWITCH's conference profile (fs/profile_check.py) as a greenlet: it
waits for the inbound connection's first success, asks once, logs what it finds."""

from __future__ import annotations

from typing import Any

import gevent

from plivoxml_fs.fs import profile_check

#: How long one wait for the inbound connection lasts before it waits again.
WAIT_S = 60.0


def start(inbound: Any, profiles: list[str]) -> gevent.Greenlet:
    """Spawn the check over `inbound` (an InboundClient); its value is the problems found."""

    def run() -> list[str]:
        while not inbound.wait_connected(WAIT_S):
            pass
        return profile_check.warn(lambda cmd: inbound.api(cmd, check=False), profiles)

    return gevent.spawn(run)
