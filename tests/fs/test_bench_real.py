"""scripts/bench.py --freeswitch on a real FreeSWITCH: a tiny run gives every figure for the
daemon, the bare handler and the MPC workload, every call completed and called back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"
FIGURES = {"calls", "completed", "failed", "executed", "seconds", "setup_ms_p50",
           "setup_ms_p99", "cpu_ms_per_call", "freeswitch_cpu_ms_per_call",
           "cpu_pct_of_freeswitch"}


def test_real_bench_measures_both_processes_for_each_workload(freeswitch, socket_port):
    host, port, password = freeswitch
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--freeswitch", f"{host}:{port}", "--password", password,
         "--socket-port", str(socket_port), "--calls", "8", "--rate", "8", "--wait", "2",
         "--count-events"],
        capture_output=True, text=True, timeout=180, check=True,
    )
    out = json.loads(done.stdout)
    assert out["freeswitch_pid"] > 0 and set(out["load"]) == {"before", "after"}
    conference, mpc = out["conference"], out["mpc"]
    for result in (conference["daemon"], conference["baseline"], mpc["daemon"]):
        assert set(result) >= FIGURES
        assert (result["completed"], result["failed"], result["executed"]) == (8, 0, 8)
        assert result["freeswitch_cpu_ms_per_call"] > 0
    # every call's hangup callback; enter and exit of each conference member; the MPC's
    # status callbacks (more than one a participant)
    assert conference["daemon"]["hangup_callbacks"] == 8
    assert conference["daemon"]["room_callbacks"] == 16
    assert mpc["daemon"]["hangup_callbacks"] == 8 and mpc["daemon"]["room_callbacks"] > 8
    # a call's connection gets only what something reads: no CHANNEL_EXECUTE, CHANNEL_STATE
    events = conference["daemon"]["events_per_call"]
    assert events["outbound CHANNEL_EXECUTE_COMPLETE"] >= 1
    assert not {"outbound CHANNEL_EXECUTE", "outbound CHANNEL_STATE"} & set(events)
