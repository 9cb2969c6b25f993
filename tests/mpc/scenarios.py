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


def _exit_request(scene: Scene, caller, path: str = "/exit") -> dict:
    return scene.wait(f"{caller.to} onExit request",
                      lambda: next(iter(scene.app.of(path, caller.to)), None))


def max_duration_ends_the_mpc(scene: Scene) -> None:
    """maxDuration="300" (3 s at the scenarios' time scale): the MPC ends with 2000; both
    participants leave with Multiparty Call Ended; one goes to its onExitActionUrl (with the
    exit parameters and the call's), the other's call ends with 4020."""
    name = mpc_name("maxdur")
    scene.app.documents["/exit"] = "<Response><Hangup/></Response>"
    first = scene.call("5101", doc(name, "Customer", 'maxDuration="300" stayAlone="true"'
                                   ' onExitActionUrl="{base}/exit"'))
    second = scene.call("5102", doc(name, "Agent", 'maxDuration="300"'))
    end = wait_event(scene, name, "MPCEnd")[0]
    assert end["MPCTerminationCause"] == "Max Duration Reached"
    assert end["MPCTerminationCauseCode"] == "2000"
    assert 2 <= int(end["MPCDuration"]) <= 5, end  # MPC seconds are wall seconds in callbacks
    assert end["MPCBilledDuration"] == "60"
    exit_ = _exit_request(scene, first)
    assert exit_["ParticipantExitCause"] == "Multiparty Call Ended"
    assert exit_["MPCFriendlyName"] == name and exit_["MPCUUID"] == end["MPCUUID"]
    assert exit_["ParticipantRole"] == "Customer" and exit_["MemberID"]
    assert exit_["ParticipantCallUUID"] == exit_["CallUUID"]
    assert exit_["ParticipantJoinTime"] <= exit_["ParticipantEndTime"]
    assert scene.hung_up(second)["HangupCauseCode"] == "4020"
    assert scene.hung_up(first)["HangupCauseCode"] == "4000"  # its <Hangup/>


def max_participants_refuses_the_third(scene: Scene) -> None:
    """maxParticipants="2": the third caller does not join; its onExitActionUrl says why
    (ParticipantExitCause=Max Participants Reached, no MemberID) and no status callback names
    it; the two others stay."""
    name = mpc_name("full")
    scene.app.documents["/exit"] = "<Response><Speak>full</Speak></Response>"
    attrs_ = 'maxParticipants="2" stayAlone="true" onExitActionUrl="{base}/exit"'
    a = scene.call("5201", doc(name, "Customer", attrs_))
    wait_event(scene, name, "ParticipantJoin")
    b = scene.call("5202", doc(name, "Agent", attrs_))
    wait_event(scene, name, "ParticipantJoin", 2)
    c = scene.call("5203", doc(name, "Agent", attrs_))
    refused = _exit_request(scene, c)
    assert refused["ParticipantExitCause"] == "Max Participants Reached"
    assert refused["MemberID"] == "" and refused["ParticipantJoinTime"] == ""
    assert scene.hung_up(c)["HangupCauseCode"] == "4010"  # its exit document ran out
    assert {e.get("ParticipantCallUUID", "") for e in events(scene, name)} <= {
        "", *[e["ParticipantCallUUID"] for e in wait_event(scene, name, "ParticipantJoin", 2)]}
    assert len(scene.members(fs_room(scene, name))) == 2
    for caller in (a, b):
        scene.hang_up(caller)
        scene.hung_up(caller)


def end_mpc_on_exit_releases_the_others(scene: Scene) -> None:
    """An agent with endMpcOnExit hangs up: the MPC ends (1000); the customer goes on with
    its next verb; events in order."""
    name = mpc_name("endexit")
    customer = scene.call("5301", doc(name, "Customer", 'stayAlone="true"',
                                      "<Speak>goodbye</Speak>"))
    agent = scene.call("5302", doc(name, "Agent", 'endMpcOnExit="true"'))
    wait_event(scene, name, "ParticipantJoin", 2)
    scene.hang_up(agent)
    assert scene.hung_up(customer)["HangupCauseCode"] == "4010"  # its Speak ran after
    wait_event(scene, name, "MPCEnd")
    scene.flush()
    got = events(scene, name)
    assert [e["EventName"] for e in got][-3:] == ["ParticipantExit", "ParticipantExit", "MPCEnd"]
    assert got[-1]["MPCTerminationCauseCode"] == "1000"
    assert [int(e["SequenceNumber"]) for e in got] == list(range(1, len(got) + 1))



def wait_time_leaves_an_unstarted_mpc(scene: Scene) -> None:
    """waitTime="100" (1 s here) with waitForAgent and no agent: the customer leaves the MPC
    that never started (exit cause Wait Time Exceeded) and goes on; the MPC ends (1000)."""
    name = mpc_name("waittime")
    scene.app.documents["/exit"] = "<Response><Hangup/></Response>"
    customer = scene.call("5401", doc(name, "Customer", 'waitForAgent="true" waitTime="100"'
                                      ' onExitActionUrl="{base}/exit"'))
    exit_ = _exit_request(scene, customer)
    assert exit_["ParticipantExitCause"] == "Wait Time Exceeded"
    end = wait_event(scene, name, "MPCEnd")[0]
    assert end["MPCTerminationCauseCode"] == "1000"
    assert "MPCStart" not in names(scene, name)


def digits_and_speech_reach_the_status_url(scene: Scene) -> None:
    """statusCallbackEvents in any case with a duplicate: digits give ParticipantDigitInput
    (DigitInput), talking ParticipantSpeakStart/Stop."""
    name = mpc_name("events")
    groups = ('statusCallbackEvents="MPC-State-Changes,participant-digit-input-events,'
              'participant-speak-events,participant-digit-input-events" stayAlone="true"')
    caller = scene.call("5501", doc(name, "Agent", groups))
    wait_event(scene, name, "MPCStart")
    scene.dtmf(caller, "7")
    digit = wait_event(scene, name, "ParticipantDigitInput")[0]
    assert digit["DigitInput"] == "7" and digit["ParticipantRole"] == "Agent"
    scene.talk(caller, 1500)
    wait_event(scene, name, "ParticipantSpeakStop")
    assert "ParticipantJoin" not in names(scene, name)  # its group was not asked for
    scene.hang_up(caller)
    scene.hung_up(caller)
    wait_event(scene, name, "MPCEnd")


SCENARIOS += [max_duration_ends_the_mpc, max_participants_refuses_the_third,
              end_mpc_on_exit_releases_the_others, wait_time_leaves_an_unstarted_mpc,
              digits_and_speech_reach_the_status_url]


def sdk_defaults_run(scene: Scene) -> None:
    """Documents built with the official SDK's MultiPartyCallElement defaults (every default
    written out) run: an agent and a customer meet, the MPC starts and ends in order."""
    from plivo import plivoxml

    name = mpc_name("sdk")

    def built(role: str) -> str:
        response = plivoxml.ResponseElement()
        response.add(plivoxml.MultiPartyCallElement(
            content=name, role=role, status_callback_url="http://base.invalid/mpc"))
        return response.to_string().replace("http://base.invalid", "{base}")

    customer = scene.call("5601", built("customer"))
    agent = scene.call("5602", built("agent"))
    wait_event(scene, name, "ParticipantJoin", 2)
    scene.hang_up(agent)
    scene.hung_up(agent)
    scene.hung_up(customer)
    wait_event(scene, name, "MPCEnd")
    scene.flush()
    assert names(scene, name) == ["MPCInitialized", "ParticipantJoin", "MPCStart",
                                  "ParticipantJoin", "ParticipantExit", "ParticipantExit",
                                  "MPCEnd"]


SCENARIOS.append(sdk_defaults_run)
