"""`plivoxml-fs replay` with the call-centre examples: callers with roles from their documents,
who hears whom measured from audio (--hearing), the MPC ended by its callers (--hangup-after)."""

from __future__ import annotations

import io

from plivoxml_fs.replay import Replay, ReplayOptions, run


def _run(root, port: int, documents, **options) -> tuple[int, str, Replay]:
    first, *others = [str(root / d) for d in documents]
    out = io.StringIO()
    replay = Replay(ReplayOptions(document=first, other_documents=tuple(others), http_port=port,
                                  time_scale=0.05, call_timeout_s=30, hearing=True,
                                  hangup_after_s=0.2, **options), out)
    return run(replay), out.getvalue(), replay


def test_customer_agent_and_coaching_supervisor(examples):
    """The demo's three callers: named by their roles; the customer hears the agent and not the
    coaching supervisor; agent and supervisor hear the two others; all complete."""
    root, port = examples
    status, text, replay = _run(root, port, ["call-centre-customer.xml", "call-centre-agent.xml",
                                             "call-centre-supervisor.xml"])
    assert status == 0, text
    for line in ("call1 runs call-centre-customer.xml: Customer in <MultiPartyCall> "
                 "demo-call-centre",
                 "call2 runs call-centre-agent.xml: Agent in <MultiPartyCall> demo-call-centre",
                 "call3 runs call-centre-supervisor.xml: Supervisor in <MultiPartyCall> "
                 "demo-call-centre"):
        assert line in text
    hearing = replay.watch.result
    assert {n: hearing.heard_by(n) for n in hearing.levels} == {
        "call1 Customer": {"call2 Agent"},
        "call2 Agent": {"call1 Customer", "call3 Supervisor"},
        "call3 Supervisor": {"call1 Customer", "call2 Agent"},
    }, str(hearing)
    matrix = [ln for ln in text.splitlines() if "] hearing " in ln and "call1 Customer  " in ln]
    assert matrix, text
    # the MPC's recording (recordCoachVoice="false"): customer and agent, not the supervisor
    (row,) = [ln.split("recording", 1)[1].split() for ln in text.splitlines()
              if "] hearing " in ln and ln.split("hearing", 1)[1].strip().startswith("recording")]
    assert row[0] == "heard" and row[2] == "heard" and row[4] == "-", row
    assert "3 call(s) completed" in text
    (joined,) = [ln for ln in text.splitlines() if "every caller is in its room" in ln]
    assert joined.endswith(": call1, call2, call3)"), joined  # one room


def test_held_customer(examples):
    """A customer who joins on hold hears nobody and is heard by nobody; the agent and the
    supervisor, in the same MPC, hear each other."""
    root, port = examples
    status, text, replay = _run(root, port, ["call-centre-held.xml", "call-centre-agent.xml",
                                             "call-centre-supervisor.xml"])
    assert status == 0, text
    (joined,) = [ln for ln in text.splitlines() if "every caller is in its room" in ln]
    assert joined.endswith(": call1, call2, call3)"), joined  # one room
    hearing = replay.watch.result
    assert {n: hearing.heard_by(n) for n in hearing.levels} == {
        "call1 Customer": set(), "call2 Agent": {"call3 Supervisor"},
        "call3 Supervisor": {"call2 Agent"}}, str(hearing)
