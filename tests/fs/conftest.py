"""Scenario tests against a real FreeSWITCH (marker `freeswitch`).

They need FreeSWITCH's inbound event socket on 127.0.0.1:8021 (password ClueCon, or
PLIVOXML_FS_TEST_PASSWORD; PLIVOXML_FS_TEST_HOST/PORT for another place) with a dialplan that
sends calls to 127.0.0.1:8084 (PLIVOXML_FS_TEST_SOCKET_PORT for another port), as
../shared/tools/run-freeswitch.sh sets up. When nothing answers there, every test here is
skipped with that reason, never silently passed. With pytest-xdist, each worker takes its own
FreeSWITCH from PLIVOXML_FS_TEST_INSTANCES (instances.py says how; .ci/run starts them).
"""

from __future__ import annotations

import os
import socket

import pytest

from fs.instances import FS_HOST, FS_PASSWORD, FS_PORT, FS_SOCKET_PORT  # noqa: F401  (imported from here)
from fs.real import profile_problems


def _reachable() -> bool:
    try:
        with socket.create_connection((FS_HOST, FS_PORT), timeout=0.5) as sock:
            sock.settimeout(1.0)
            return sock.recv(64).startswith(b"Content-Type: auth/request")
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__) + os.sep  # the separator keeps tests/fs_commands out
    mine = [item for item in items if str(item.fspath).startswith(here)]
    if not mine:
        return
    reason = None if _reachable() else f"no FreeSWITCH answering ESL on {FS_HOST}:{FS_PORT}"
    for item in mine:
        item.add_marker(pytest.mark.freeswitch)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def quiet_profiles() -> None:
    """Every real-FreeSWITCH test refuses to run (fails, naming the setting) on a FreeSWITCH
    whose room profiles greet a new room's first member: that speech would be heard instead
    of what the tests measure (.ci/run sets alone-sound as the shipped profiles do)."""
    problems = profile_problems()
    if problems:
        pytest.fail("the real FreeSWITCH is not configured as freeswitch/ says: "
                    + "; ".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def _quiet_profiles(quiet_profiles) -> None:
    """quiet_profiles for every test here (a skipped test never asks)."""


@pytest.fixture
def freeswitch() -> tuple[str, int, str]:
    """Address and password of the real FreeSWITCH."""
    return FS_HOST, FS_PORT, FS_PASSWORD


@pytest.fixture
def socket_port() -> int:
    """The port on 127.0.0.1 where the real FreeSWITCH sends its calls."""
    return FS_SOCKET_PORT
