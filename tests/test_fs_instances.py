"""Which real FreeSWITCH a test process uses (tests/fs/instances.py): one per xdist worker from
PLIVOXML_FS_TEST_INSTANCES, the single PLIVOXML_FS_TEST_PORT/_SOCKET_PORT pair otherwise, and
one shared pair (SHARED) when the workers outnumber the instances."""

from __future__ import annotations

import pytest
from fs import instances


def test_without_the_variable_there_is_the_one_pair_of_before():
    assert instances.pairs({}) == [(8021, 8084)]
    env = {"PLIVOXML_FS_TEST_PORT": "8101", "PLIVOXML_FS_TEST_SOCKET_PORT": "8164"}
    assert instances.pairs(env) == [(8101, 8164)]
    assert instances.choose(env) == (8101, 8164, False)


def test_each_worker_takes_its_own_pair():
    spec = {"PLIVOXML_FS_TEST_INSTANCES": "8021:8084, 8022:8085,8023:8086",
            "PYTEST_XDIST_WORKER_COUNT": "3"}
    assert [instances.choose({**spec, "PYTEST_XDIST_WORKER": f"gw{i}"}) for i in range(3)] == [
        (8021, 8084, False), (8022, 8085, False), (8023, 8086, False)]


def test_more_workers_than_pairs_share_the_first():
    spec = {"PLIVOXML_FS_TEST_INSTANCES": "8021:8084,8022:8085", "PYTEST_XDIST_WORKER_COUNT": "3"}
    assert instances.choose({**spec, "PYTEST_XDIST_WORKER": "gw2"}) == (8021, 8084, True)
    one = {"PYTEST_XDIST_WORKER_COUNT": "3", "PYTEST_XDIST_WORKER": "gw1"}
    assert instances.choose(one) == (8021, 8084, True)
    # no xdist: one process, nothing shared
    assert instances.choose({"PLIVOXML_FS_TEST_INSTANCES": "8022:8085"}) == (8022, 8085, False)


@pytest.mark.parametrize("bad", ["8021", "8021:x", "8021:8084,", ":8084"])
def test_a_malformed_pair_is_named(bad):
    with pytest.raises(ValueError, match="is not ESL_PORT:SOCKET_PORT"):
        instances.pairs({"PLIVOXML_FS_TEST_INSTANCES": bad})
