"""Smoke test of scripts/bench.py: a tiny run prints JSON with every figure for both sides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
DAEMON_FIELDS = {
    "calls",
    "failed",
    "executed",
    "peak_concurrent",
    "seconds",
    "calls_per_s",
    "setup_ms_p50",
    "setup_ms_p99",
    "cpu_s_total",
    "cpu_ms_per_call",
    "rss_mb_at_first_tenth",
    "rss_mb_at_end",
    "rss_mb_growth_pct",
    "callbacks_delivered",
    "callbacks_per_s",
    "outbox_lag_ms_p50",
    "outbox_lag_ms_p99",
    "mean_ms_by_command",
}


def test_five_calls_give_every_figure():
    """5 calls through the daemon and the baseline: all complete, every field present."""
    args = ["--calls", "5", "--concurrency", "5", "--rate", "50", "--wait", "1"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--time-scale", "0.05"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = json.loads(done.stdout)
    assert out["document"] == "Speak/Play/Wait"
    assert set(out["daemon"]) == DAEMON_FIELDS
    assert set(out["baseline"]) == DAEMON_FIELDS - {"rss_mb_growth_pct", "mean_ms_by_command"} - {
        f for f in DAEMON_FIELDS if f.startswith(("callbacks", "outbox"))
    }
    assert (out["daemon"]["failed"], out["baseline"]["failed"]) == (0, 0)
    assert (out["daemon"]["executed"], out["baseline"]["executed"]) == (5, 5)
    assert out["daemon"]["callbacks_delivered"] == 5
    assert {"sendmsg", "fetch"} <= set(out["daemon"]["mean_ms_by_command"])
    assert out["daemon"]["setup_ms_p99"] > 0 and out["baseline"]["setup_ms_p99"] > 0
    assert out["cpu_ratio_to_baseline"] is None or out["cpu_ratio_to_baseline"] > 0
