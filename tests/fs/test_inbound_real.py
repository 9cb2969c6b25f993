"""The inbound connection asks a real FreeSWITCH 1.10.12 only for what it reads: an event
wanted for a while (`InboundClient.want`: the daemon's orphans' CHANNEL_HANGUP_COMPLETE)
flows while wanted, and after `nixevent` no more of it comes while the fixed subscription
goes on."""

from __future__ import annotations

import uuid as uuidlib

from waiting import until

from plivoxml_fs.esl.inbound import InboundClient

HANGUP = "CHANNEL_HANGUP_COMPLETE"
WAIT_S = 15.0


def _call(client: InboundClient) -> str:
    """A channel that ends at once (its loopback other half finds no daemon on the socket
    port), ended by the time this returns."""
    uuid = str(uuidlib.uuid4())
    client.api(f"originate {{origination_uuid={uuid}}}loopback/nobody/default &park",
               timeout=WAIT_S, check=False)
    until("the channel gone", lambda: client.api(f"uuid_exists {uuid}").strip() == "false",
          WAIT_S)
    return uuid


def test_a_wanted_event_flows_only_while_wanted(freeswitch):
    host, port, password = freeswitch
    seen = []
    client = InboundClient(host, port, password, events=("BACKGROUND_JOB",),
                           on_event=seen.append, reconnect_min_s=0.1, reconnect_max_s=1.0,
                           command_timeout_s=WAIT_S)
    client.start()

    def ended(uuid: str) -> list:
        return [e for e in seen if e.name == HANGUP and e.unique_id == uuid]

    try:
        assert client.wait_connected(5)
        client.want(HANGUP, True)
        first = _call(client)
        until("the wanted CHANNEL_HANGUP_COMPLETE", lambda: ended(first), WAIT_S)
        client.want(HANGUP, False)
        second = _call(client)
        fence = client.bgapi("status")  # its BACKGROUND_JOB comes after the channel ended
        job = fence.get("Job-UUID")
        until("the fence's BACKGROUND_JOB", lambda: [
            e for e in seen if e.name == "BACKGROUND_JOB" and e.get("Job-UUID") == job], WAIT_S)
        assert ended(second) == []
        assert {e.name for e in seen} == {"BACKGROUND_JOB", HANGUP}
    finally:
        client.stop()
