"""Which real FreeSWITCH this test process uses: one per pytest-xdist worker when several run.

PLIVOXML_FS_TEST_INSTANCES="8021:8084,8022:8085" names one FreeSWITCH per worker, each as
ESL port:socket port (the port its dialplan sends calls to): worker gw0 takes the first pair,
gw1 the second, and so on (.ci/run starts them). Without it there is one pair,
PLIVOXML_FS_TEST_PORT (8021) and PLIVOXML_FS_TEST_SOCKET_PORT (8084), as before. When there are
more workers than pairs, every worker names the first pair and `SHARED` is true: the conftest
then puts all real-FreeSWITCH tests in one xdist group, so a single worker runs them one at a
time (two tests never listen on one socket port at once). Host and password are the same for all
(PLIVOXML_FS_TEST_HOST, PLIVOXML_FS_TEST_PASSWORD).
"""

from __future__ import annotations

import os


def pairs(environ=os.environ) -> list[tuple[int, int]]:
    """The (ESL port, socket port) pairs the environment names, in worker order."""
    spec = environ.get("PLIVOXML_FS_TEST_INSTANCES", "").strip()
    if not spec:
        return [(int(environ.get("PLIVOXML_FS_TEST_PORT", "8021")),
                 int(environ.get("PLIVOXML_FS_TEST_SOCKET_PORT", "8084")))]
    found = []
    for item in spec.split(","):
        esl, sep, sock = item.strip().partition(":")
        if not sep or not esl.isdigit() or not sock.isdigit():
            raise ValueError(f"PLIVOXML_FS_TEST_INSTANCES: {item!r} is not ESL_PORT:SOCKET_PORT")
        found.append((int(esl), int(sock)))
    return found


def worker_index(environ=os.environ) -> int:
    """This process's xdist worker number (gw3 -> 3); 0 when not run by xdist."""
    name = environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def choose(environ=os.environ) -> tuple[int, int, bool]:
    """(ESL port, socket port, shared) for this process."""
    found = pairs(environ)
    workers = int(environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > len(found):
        return found[0][0], found[0][1], workers > 1
    return *found[worker_index(environ)], False


FS_HOST = os.environ.get("PLIVOXML_FS_TEST_HOST", "127.0.0.1")
FS_PASSWORD = os.environ.get("PLIVOXML_FS_TEST_PASSWORD", "ClueCon")
FS_PORT, FS_SOCKET_PORT, SHARED = choose()
#: The xdist group of every real-FreeSWITCH test when the workers share one FreeSWITCH.
SHARED_GROUP = "one-freeswitch"

