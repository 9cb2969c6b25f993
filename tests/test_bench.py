"""Smoke test of scripts/bench.py: a tiny run prints JSON with every figure for both sides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
DAEMON_FIELDS = {
    "conference_callbacks_received",
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
BURST_FIELDS = {
    "webhooks",
    "delivered",
    "bad_signatures",
    "failed_attempts",
    "pool_size",
    "seconds",
    "delivered_per_s",
    "lag_ms_p50",
    "lag_ms_p99",
    "emit_ms_mean",
    "cpu_ms_per_callback",
}


def test_five_calls_give_every_figure(tmp_path):
    """5 calls through the daemon and the baseline, then a burst of 20 signed webhooks through
    a fresh outbox: all complete and arrive, every field present."""
    args = ["--calls", "5", "--concurrency", "5", "--rate", "50", "--wait", "1", "--burst", "20"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--time-scale", "0.05",
         "--cpu-profile", str(tmp_path / "stacks")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = json.loads(done.stdout)
    assert out["document"] == "<Conference> rooms of 4 callers, timeLimit 1 s, callbacks"
    assert set(out["daemon"]) == DAEMON_FIELDS | {"cpu_profile"}
    assert set(out["baseline"]) == DAEMON_FIELDS - {"rss_mb_growth_pct", "mean_ms_by_command"} - {
        f for f in DAEMON_FIELDS if f.startswith(("callbacks", "outbox", "conference"))
    }
    assert (out["daemon"]["failed"], out["baseline"]["failed"]) == (0, 0)
    assert (out["daemon"]["executed"], out["baseline"]["executed"]) == (5, 5)
    assert out["daemon"]["callbacks_delivered"] == 5
    assert out["daemon"]["conference_callbacks_received"] == 10  # enter and exit of each
    assert {"sendmsg", "fetch"} <= set(out["daemon"]["mean_ms_by_command"])
    assert out["daemon"]["setup_ms_p99"] > 0 and out["baseline"]["setup_ms_p99"] > 0
    assert out["cpu_ratio_to_baseline"] is None or out["cpu_ratio_to_baseline"] > 0
    profile = out["daemon"]["cpu_profile"]  # the daemon child's CPU samples (bench_cpuprof)
    assert profile["file"] == str(tmp_path / "stacks") and (tmp_path / "stacks").exists()
    stacks = (tmp_path / "stacks").read_text().splitlines()
    assert sum(int(line.rpartition(" ")[2]) for line in stacks) == profile["samples"]
    assert profile["samples"] == 0 or 99 <= sum(profile["by_part_pct"].values()) <= 101
    burst = out["outbox_burst"]
    assert set(burst) == BURST_FIELDS
    assert (burst["webhooks"], burst["delivered"], burst["bad_signatures"]) == (20, 20, 0)
    assert burst["failed_attempts"] == 0 and burst["delivered_per_s"] > 0
    assert 0 < burst["lag_ms_p50"] <= burst["lag_ms_p99"]
    assert "outbox_burst.lag_ms" in out["definitions"]
    runs = out["outbox_burst_runs"]  # three bursts by default: min <= median <= max
    assert set(runs) == {"delivered_per_s", "lag_ms_p99", "cpu_ms_per_callback"}
    assert all(r["min"] <= r["median"] <= r["max"] for r in runs.values())
    assert runs["delivered_per_s"]["median"] == burst["delivered_per_s"]


AI_SCRIPT = SCRIPT.with_name("bench_ai.py")


def test_ai_bench_reports_every_figure_and_loses_no_frame():
    out = subprocess.run([sys.executable, str(AI_SCRIPT), "--streams", "2", "--seconds", "2"],
                         capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(out.stdout)
    assert report["ai_streams"] == 2
    for direction in ("room_to_service_ms", "service_to_room_ms"):
        figures = report[direction]
        assert figures["frames"] >= 150 and figures["p50"] is not None, report
        assert figures["p50"] <= figures["p99"]
    assert report["frames_lost"] == {"room_to_service": 0, "service_to_room": 0}, report
    assert report["daemon_cpu_ms_per_stream_per_s"] > 0
    assert set(report["definitions"]) >= {"room_to_service_ms", "service_to_room_ms",
                                          "frames_lost", "daemon_cpu_ms_per_stream_per_s"}
