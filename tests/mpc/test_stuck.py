"""A participant whose `conference` application never returns once the MPC let it go (the
embedded FreeSWITCH's `hup` made to do nothing): the call is not held forever; after
command_timeout_s it is hung up with Plivo's 4020, its exit and MPCEnd still come, in order,
and one ERROR line names the MPC."""

from __future__ import annotations

import logging

from mpc.conftest import MPC_TIME_SCALE
from mpc.scenarios import doc, events, mpc_name, wait_event
from plivoxml_fs.simulator import conference_api


def test_a_member_freeswitch_never_releases_is_hung_up(scene, monkeypatch, caplog):
    monkeypatch.setitem(conference_api.MEMBER_COMMANDS, "hup",
                        lambda room, member, args: f"+OK hup {member.id}\n")
    built = scene(mpc_time_scale=MPC_TIME_SCALE, command_timeout_s=1.0)
    name = mpc_name("stuck")
    customer = built.call("5701", doc(name, "Customer", 'stayAlone="true"'))
    agent = built.call("5702", doc(name, "Agent", 'endMpcOnExit="true"'))
    wait_event(built, name, "ParticipantJoin", 2)
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs"):
        built.hang_up(agent)
        hangup = built.hung_up(customer)
    assert hangup["HangupCauseCode"] == "4020", hangup
    wait_event(built, name, "MPCEnd")
    built.flush()
    got = events(built, name)
    assert [e["EventName"] for e in got][-3:] == ["ParticipantExit", "ParticipantExit", "MPCEnd"]
    assert got[-2]["ParticipantExitCause"] == "Multiparty Call Ended"
    assert [int(e["SequenceNumber"]) for e in got] == list(range(1, len(got) + 1))
    lines = [r.getMessage() for r in caplog.records if "did not return" in r.getMessage()]
    assert len(lines) == 1 and f"MPC {name}" in lines[0], lines
