"""`<MultiPartyCall>` scenarios written once, run on the embedded FreeSWITCH (test_scenarios.py)
and on a real one (tests/fs/test_mpc_real.py). Each asserts what callers experienced through
the web app (status callbacks, onExit requests, hangup callbacks) and FreeSWITCH's API."""

from __future__ import annotations

import uuid

from conference.scene import Scene

STATUS = 'statusCallbackUrl="{base}/mpc"'


def mpc_name(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def doc(name: str, role: str, attrs: str = "", after: str = "") -> str:
    return (f'<Response><MultiPartyCall role="{role}" {STATUS} {attrs}>{name}'
            f"</MultiPartyCall>{after}</Response>")


def events(scene: Scene, name: str) -> list[dict]:
    """The status callbacks of MPC `name`, in the order they arrived."""
    return [h for h in scene.app.of("/mpc") if h.get("MPCName") == name]


def names(scene: Scene, name: str) -> list[str]:
    return [e["EventName"] for e in events(scene, name)]


def wait_event(scene: Scene, name: str, event: str, count: int = 1) -> list[dict]:
    return scene.wait(f"{count} {event} of {name}", lambda: (
        found if len(found := [e for e in events(scene, name) if e["EventName"] == event])
        >= count else None))


def fs_room(scene: Scene, name: str) -> str:
    (first, *_) = events(scene, name)
    return f"mpc-{first['MPCUUID']}"


def customer_and_agent_meet(scene: Scene) -> None:
    """A customer and an agent: MPCInitialized, joins, MPCStart at the first join (startMpcOnEnter),
    the customer hangs up: its exit, the agent is alone (stayAlone false): 1010, the agent's
    exit (Multiparty Call Ended), MPCEnd; SequenceNumber 1..n in order; the agent's call ends
    with 4020."""
    name = mpc_name("meet")
    customer = scene.call("5001", doc(name, "Customer"))
    wait_event(scene, name, "ParticipantJoin")
    agent = scene.call("5002", doc(name, "agent"))
    wait_event(scene, name, "ParticipantJoin", 2)
    scene.hang_up(customer)
    scene.hung_up(customer)
    hangup = scene.hung_up(agent)
    wait_event(scene, name, "MPCEnd")
    scene.flush()
    got = events(scene, name)
    assert [e["EventName"] for e in got] == [
        "MPCInitialized", "ParticipantJoin", "MPCStart", "ParticipantJoin", "ParticipantExit",
        "ParticipantExit", "MPCEnd"], got
    assert [int(e["SequenceNumber"]) for e in got] == list(range(1, len(got) + 1))
    assert len({e["MPCUUID"] for e in got}) == 1
    join_c, join_a = got[1], got[3]
    assert join_c["ParticipantRole"] == "Customer" and join_a["ParticipantRole"] == "Agent"
    assert join_c["ParticipantCallUUID"] != join_a["ParticipantCallUUID"]
    assert got[4]["ParticipantExitCause"] == "Participant Call Hangup"
    assert got[4]["MemberID"] == join_c["MemberID"]
    assert got[5]["ParticipantExitCause"] == "Multiparty Call Ended"
    end = got[6]
    assert end["MPCTerminationCause"] == "Stay Alone Not Permitted"
    assert end["MPCTerminationCauseCode"] == "1010"
    assert end["MPCBilledAmount"] == "0.00000"
    assert hangup["HangupCauseCode"] == "4020", hangup


SCENARIOS = [customer_and_agent_meet]
