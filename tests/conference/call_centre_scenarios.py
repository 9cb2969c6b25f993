"""A call centre through the daemon: `<MultiPartyCall>` Customer, Agent and Supervisor calls,
who hears whom asserted from audio (issue 11, "Tests, measured from audio").

Written once, run on the embedded FreeSWITCH (test_call_centre.py, in `make test`) and on a real
FreeSWITCH 1.10.12 (tests/fs/test_hearing_real.py). Each caller is a loopback call: its B leg
runs its document through the daemon, its A leg is the caller's phone. The measurement is
plivoxml_fs/hearing.py `measure`, the one `plivoxml-fs replay --hearing` runs: each caller plays
its own tone from its phone, what each phone receives is recorded, every tone's level read in
every recording. Music is served as a sine at a frequency of its own (WAIT_HZ, ...: the web app's
/tones/<hz>.wav), read as further columns of the matrix, so "the customer hears wait music" is
measured like "the customer hears the agent".

A state is reached when the daemon says so (status callbacks: ParticipantJoin, MPCStart) and
its audio may follow a moment later (the music document is fetched first), so what must be
heard gets up to MEASURES measurements; what must not be heard fails the first measurement
that hears it. The matrix is in the failure message. The scene carries `record_dir` and `time_scale` (1.0 on a real FreeSWITCH).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from conference.hearing import Party, measure
from conference.scenarios import room
from conference.scene import Caller, Scene
from plivoxml_fs.hearing import HEARS_DBFS, TONES_HZ, read_wav, tone_levels

#: Music, each at its own frequency: exact 200 ms Goertzel bins, 150 Hz or more from every
#: caller tone (plivoxml_fs.hearing.TONES_HZ) and from each other.
WAIT_HZ = 650
CUSTOMER_HOLD_HZ = 1000
AGENT_HOLD_HZ = 1450
MUSIC = {"wait": WAIT_HZ, "customer-hold": CUSTOMER_HOLD_HZ, "agent-hold": AGENT_HOLD_HZ}
#: How many measurements an expectation gets to come true.
MEASURES = 3
STATUS = "/mpc"


def music_documents(scene: Scene) -> None:
    """The music documents the MPC names (Play only: what Plivo allows, a Play/Speak/Wait
    document), each a sine of its own."""
    for name, hz in MUSIC.items():
        scene.app.documents[f"/docs/{name}"] = (
            f"<Response><Play>{{base}}/tones/{hz}.wav</Play></Response>")


def mpc(name: str, role: str, **attributes: str) -> str:
    """A document joining MPC `name` as `role`: the MPC-level attributes every participant
    repeats (music, status callbacks), no enter or exit beeps (they would sound in the matrix),
    then `attributes` (Python names: wait_for_agent -> waitForAgent)."""
    values = {
        "role": role,
        "statusCallbackUrl": f"{{base}}{STATUS}",
        "waitMusicUrl": "{base}/docs/wait",
        "customerHoldMusicUrl": "{base}/docs/customer-hold",
        "agentHoldMusicUrl": "{base}/docs/agent-hold",
        "enterSound": "none",
        "exitSound": "none",
    }
    for key, value in attributes.items():
        head, *rest = key.split("_")
        values[head + "".join(part[:1].upper() + part[1:] for part in rest)] = value
    text = " ".join(f'{key}="{value}"' for key, value in values.items())
    return f"<Response><MultiPartyCall {text}>{name}</MultiPartyCall></Response>"


@attrs.define
class Participant:
    """A caller and its name in the matrix (its role, or role and number)."""

    name: str
    caller: Caller
    b_leg: str = ""


def join(scene: Scene, name: str, to: str, document: str) -> Participant:
    """Start a caller into MPC document `document`; returns once the daemon reported its
    ParticipantJoin (its B leg is the ParticipantCallUUID)."""
    caller = scene.call(to, document)

    def joined_or_gone():
        b_leg = _b_leg(scene, caller)
        gone = scene.app.of("/hangup", to)
        assert not gone, f"{name} hung up before joining: {gone[0].get('HangupCause')}"
        return b_leg and event(scene, "ParticipantJoin", b_leg) and b_leg

    return Participant(name, caller, scene.wait(f"{name} joins", joined_or_gone))


def _b_leg(scene: Scene, caller: Caller) -> str:
    reply = scene.api(f"uuid_getvar {caller.a_leg} other_loopback_leg_uuid").strip()
    return "" if not reply or reply.startswith("-ERR") or reply == "_undef_" else reply


def events(scene: Scene, name: str | None = None) -> list[dict]:
    """The status callbacks received, in order (those named `name` when given)."""
    return [h for h in scene.app.of(STATUS) if name is None or h.get("EventName") == name]


def event(scene: Scene, name: str, b_leg: str | None = None) -> dict | None:
    return next((h for h in events(scene, name)
                 if b_leg is None or h.get("ParticipantCallUUID") == b_leg), None)


def hears(scene: Scene, parties: Sequence[Participant],
          expected: Mapping[str, set[str]], lingering: Sequence[str] = ()):
    """Measure until each party hears exactly `expected[name]` (other parties and music names);
    the last matrix when it never does. A sound that must not be heard fails at once, in any
    measurement (a supervisor leaking to the customer for a moment is a leak), except those
    `lingering` (music the state just stopped may still end its current play)."""
    want = {p.name: set(expected[p.name]) for p in parties}
    for _ in range(MEASURES):
        hearing = measure(scene.api, [Party(p.name, p.caller.a_leg) for p in parties],
                          scene.record_dir, time_scale=scene.time_scale, extra_tones=MUSIC)
        got = {p.name: hearing.heard_by(p.name) for p in parties}
        extra = {n: got[n] - want[n] - set(lingering) for n in want}
        leaks = {n: heard for n, heard in extra.items() if heard}
        assert not leaks, f"who hears whom: {leaks} heard, expected {want}\n{hearing}"
        if got == want:
            return hearing
    raise AssertionError(f"who hears whom: expected {want}, got {got}\n{hearing}")


def leave(scene: Scene, parties: Sequence[Participant]) -> None:
    scene.leave([p.caller for p in parties])


def customer_hears_wait_music_until_the_agent_joins(scene: Scene) -> None:
    """waitForAgent="true": the customer alone hears the wait music; once the agent joins the
    MPC starts, customer and agent hear each other and the music stops."""
    music_documents(scene)
    name = room("cc-wait")
    parties = [join(scene, "Customer", "8101", mpc(name, "Customer", wait_for_agent="true"))]
    try:
        hears(scene, parties, {"Customer": {"wait"}})
        assert event(scene, "MPCStart") is None, events(scene)
        parties.append(join(scene, "Agent", "8102", mpc(name, "Agent", wait_for_agent="true")))
        scene.wait("MPCStart", lambda: event(scene, "MPCStart"))
        hears(scene, parties, {"Customer": {"Agent"}, "Agent": {"Customer"}},
              lingering=["wait"])
    finally:
        leave(scene, parties)


def _three(scene: Scene, prefix: str, supervisor: dict[str, str]) -> list[Participant]:
    music_documents(scene)
    name = room(prefix)
    return [join(scene, "Customer", f"{prefix[-1]}201", mpc(name, "Customer")),
            join(scene, "Agent", f"{prefix[-1]}202", mpc(name, "Agent")),
            join(scene, "Supervisor", f"{prefix[-1]}203", mpc(name, "Supervisor", **supervisor))]


def coaching_supervisor_is_heard_by_the_agent_only(scene: Scene) -> None:
    """coachMode (default true): the supervisor hears customer and agent; the agent hears both;
    the customer hears the agent and not the supervisor."""
    parties = _three(scene, "cc-coach-8", {})
    try:
        hears(scene, parties, {"Customer": {"Agent"}, "Agent": {"Customer", "Supervisor"},
                               "Supervisor": {"Customer", "Agent"}})
    finally:
        leave(scene, parties)


def coaching_reaches_participants_who_join_later(scene: Scene) -> None:
    """The coaching supervisor joins first, then the customer (who does not hear the
    supervisor), then the agent: the relations are set for later joiners too (the customer
    still does not hear the supervisor, the agent does)."""
    music_documents(scene)
    name = room("cc-later")
    parties = [join(scene, "Supervisor", "8601", mpc(name, "Supervisor", stay_alone="true"))]
    try:
        parties.append(join(scene, "Customer", "8602", mpc(name, "Customer")))
        hears(scene, parties, {"Supervisor": {"Customer"}, "Customer": set()})
        parties.append(join(scene, "Agent", "8603", mpc(name, "Agent")))
        hears(scene, parties, {"Customer": {"Agent"}, "Agent": {"Customer", "Supervisor"},
                               "Supervisor": {"Customer", "Agent"}})
    finally:
        leave(scene, parties)


def barging_supervisor_is_heard_by_everyone(scene: Scene) -> None:
    """coachMode="false": the supervisor is heard by customer and agent alike."""
    parties = _three(scene, "cc-barge-7", {"coach_mode": "false"})
    try:
        hears(scene, parties, {"Customer": {"Agent", "Supervisor"},
                               "Agent": {"Customer", "Supervisor"},
                               "Supervisor": {"Customer", "Agent"}})
    finally:
        leave(scene, parties)


def held_participants_hear_their_roles_music(scene: Scene) -> None:
    """hold="true" for a customer, an agent and a supervisor, beside an agent who is not held:
    each held participant hears its role's hold music only (the supervisor, who has none,
    silence), not the other role's music and not the free agent, whom everyone else hears; and
    nobody hears a held participant."""
    music_documents(scene)
    name = room("cc-hold")
    parties = [join(scene, "Customer", "8301", mpc(name, "Customer", hold="true")),
               join(scene, "Agent", "8302", mpc(name, "Agent", hold="true")),
               join(scene, "Supervisor", "8303", mpc(name, "Supervisor", hold="true",
                                                     coach_mode="false")),
               join(scene, "Agent 2", "8304", mpc(name, "Agent"))]
    try:
        hears(scene, parties, {"Customer": {"customer-hold"}, "Agent": {"agent-hold"},
                               "Supervisor": set(), "Agent 2": set()})
    finally:
        leave(scene, parties)


def muted_customer_hears_but_is_not_heard(scene: Scene) -> None:
    """mute="true": the muted customer hears the agent; the agent does not hear the customer."""
    music_documents(scene)
    name = room("cc-mute")
    parties = [join(scene, "Customer", "8401", mpc(name, "Customer", mute="true")),
               join(scene, "Agent", "8402", mpc(name, "Agent"))]
    try:
        hears(scene, parties, {"Customer": {"Agent"}, "Agent": set()})
    finally:
        leave(scene, parties)


def _recorded(scene: Scene, prefix: str, coach_voice: str) -> dict[str, float]:
    """Customer, Agent and a coaching Supervisor in an MPC recorded as WAV with
    recordCoachVoice=`coach_voice`: each plays its tone while recorded; once all have left,
    the level of each one's tone in the recording (MPCRecordingCompleted's file)."""
    music_documents(scene)
    name = room(prefix)
    record = dict(record="true", record_file_format="wav", record_coach_voice=coach_voice,
                  recording_callback_url="{base}/mpc-recording")
    parties = [join(scene, "Customer", f"{prefix[-1]}501", mpc(name, "Customer", **record)),
               join(scene, "Agent", f"{prefix[-1]}502", mpc(name, "Agent")),
               join(scene, "Supervisor", f"{prefix[-1]}503", mpc(name, "Supervisor"))]
    try:
        scene.wait("the recording starts", lambda: _recording_event(scene, "MPCRecordingInitiated"))
        hears(scene, parties, {"Customer": {"Agent"}, "Agent": {"Customer", "Supervisor"},
                               "Supervisor": {"Customer", "Agent"}})
    finally:
        leave(scene, parties)
    done = scene.wait("the recording completes",
                      lambda: _recording_event(scene, "MPCRecordingCompleted"))
    path = Path(scene.daemon.settings.recordings_dir) / done["RecordingURL"].rsplit("/", 1)[1]
    assert path.is_file(), (done, list(path.parent.iterdir()))
    samples, rate = read_wav(path)
    tones = {p.name: hz for p, hz in zip(parties, TONES_HZ, strict=False)}
    found = tone_levels(samples, rate, list(tones.values()))
    levels = {who: found[hz] for who, hz in tones.items()}
    return levels


def _recording_event(scene: Scene, name: str) -> dict | None:
    return next((h for h in scene.app.of("/mpc-recording") if h.get("EventName") == name), None)


def recording_leaves_out_the_coach_voice(scene: Scene) -> None:
    """recordCoachVoice="false": the recording has the customer's and the agent's tones and not
    the coaching supervisor's."""
    levels = _recorded(scene, "cc-rec-nocoach-5", "false")
    assert levels["Customer"] >= HEARS_DBFS and levels["Agent"] >= HEARS_DBFS, levels
    assert levels["Supervisor"] < -40, levels


def recording_keeps_the_coach_voice(scene: Scene) -> None:
    """recordCoachVoice="true": the supervisor's tone is in the recording with the others'."""
    levels = _recorded(scene, "cc-rec-coach-6", "true")
    assert all(level >= HEARS_DBFS for level in levels.values()), levels


SCENARIOS = [customer_hears_wait_music_until_the_agent_joins,
             coaching_supervisor_is_heard_by_the_agent_only,
             coaching_reaches_participants_who_join_later,
             barging_supervisor_is_heard_by_everyone,
             held_participants_hear_their_roles_music,
             muted_customer_hears_but_is_not_heard,
             recording_leaves_out_the_coach_voice,
             recording_keeps_the_coach_voice]
