"""The example documents against a real FreeSWITCH: the same replay, a real loopback call.

The daemon listens on 127.0.0.1:8084 (or PLIVOXML_FS_TEST_SOCKET_PORT), where the test
configuration's dialplan sends calls (../shared/tools/run-freeswitch.sh). Skipped, with the reason, when no FreeSWITCH answers.
"""

from __future__ import annotations

import io

from fs.conftest import FS_SOCKET_PORT
from plivoxml_fs.replay import ReplayOptions, run_replay


def _replay(freeswitch, document: str, port: int, **options) -> tuple[int, str]:
    host, fs_port, password = freeswitch
    out = io.StringIO()
    status = run_replay(
        ReplayOptions(document=document, http_port=port, freeswitch=(host, fs_port),
                      password=password, listen=("127.0.0.1", FS_SOCKET_PORT), call_timeout_s=30,
                      **options),
        out,
    )
    return status, out.getvalue()


def test_welcome_runs_on_real_freeswitch(freeswitch, examples):
    """welcome.xml completes on a real FreeSWITCH with every application it asks for."""
    root, port = examples
    status, text = _replay(freeswitch, str(root / "welcome.xml"), port)
    assert status == 0, text
    for step in ("-> sendmsg pre_answer", "-> sendmsg answer", "-> sendmsg playback",
                 "<- event CHANNEL_EXECUTE_COMPLETE playback -> FILE PLAYED",
                 "fetch POST /next/goodbye.xml", "-> sendmsg hangup"):
        assert step in text, step
    (callback,) = [ln for ln in text.splitlines() if "callback POST /callbacks/hangup" in ln]
    assert "HangupCause=NORMAL_CLEARING" in callback


def test_busy_is_refused_on_real_freeswitch(freeswitch, examples):
    """busy.xml refuses the call: originate answers -ERR USER_BUSY and the callback says so."""
    root, port = examples
    status, text = _replay(freeswitch, str(root / "busy.xml"), port)
    assert status == 0, text
    assert "originate -> -ERR USER_BUSY" in text
    (callback,) = [ln for ln in text.splitlines() if "callback POST /callbacks/hangup" in ln]
    assert "HangupCause=USER_BUSY" in callback


def test_two_callers_on_real_freeswitch(freeswitch, examples):
    """Two simultaneous calls each complete and each posts one hangup callback."""
    root, port = examples
    status, text = _replay(freeswitch, str(root / "welcome.xml"), port, callers=2)
    assert status == 0, text
    assert len([ln for ln in text.splitlines() if "callback POST /callbacks/hangup" in ln]) == 2


def test_moderated_room_example_on_real_freeswitch(freeswitch, examples):
    """The demo's moderated room on a real FreeSWITCH: two participants wait, the moderator
    enters and leaves on *, the room ends, each participant's action says conference-ended."""
    root, port = examples
    status, text = _replay(freeswitch, str(root / "conference-participant.xml"), port,
                           other_documents=(str(root / "conference-participant.xml"),
                                            str(root / "conference-moderator.xml")),
                           digits="*", digits_delay_s=6.0)
    assert status == 0, text
    left = [ln for ln in text.splitlines() if "callback POST /callbacks/left" in ln]
    assert len(left) == 2 and all("ConferenceExitReason=conference-ended" in ln for ln in left)
    assert "3 call(s) completed" in text


def test_call_centre_example_with_hearing_on_real_freeswitch(freeswitch, examples):
    """The demo's call centre on a real FreeSWITCH with --hearing: the customer hears the agent
    and not the coaching supervisor, agent and supervisor hear the two others, the recording
    holds customer and agent and not the supervisor (recordCoachVoice="false")."""
    root, port = examples
    status, text = _replay(freeswitch, str(root / "call-centre-customer.xml"), port,
                           other_documents=(str(root / "call-centre-agent.xml"),
                                            str(root / "call-centre-supervisor.xml")),
                           hearing=True, hangup_after_s=1.0)
    assert status == 0, text
    rows = {}
    for line in text.splitlines():
        if "] hearing " not in line:
            continue
        cells = line.split("] hearing ", 1)[1].split("  ")
        cells = [c.strip() for c in cells if c.strip()]
        if cells and cells[0] in ("call1 Customer", "call2 Agent", "call3 Supervisor",
                                  "recording"):
            rows[cells[0]] = [c.split()[0] for c in cells[1:]]
    assert rows == {"call1 Customer": ["(self)", "heard", "-"],
                    "call2 Agent": ["heard", "(self)", "heard"],
                    "call3 Supervisor": ["heard", "heard", "(self)"],
                    "recording": ["heard", "heard", "-"]}, text
    assert "3 call(s) completed" in text
