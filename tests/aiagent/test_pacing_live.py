"""A live synthesiser (one 20 ms playAudio every 20 ms, talk spurts after silences of every
phase) on the embedded FreeSWITCH: every frame heard, most sent at once (the frame lock's
keep-pace window); the same run as tests/fs/test_ai_pacing_live_real.py."""

from __future__ import annotations

from aiagent.pacing_cases import SPURT_FRAMES, SPURTS, run
from aiagent.test_stream import _free_port
from plivoxml_fs.simulator import EmbeddedFreeSwitch


def check_live(result: dict) -> None:
    sent = SPURTS * SPURT_FRAMES
    assert result["frames_out"] == sent, result
    assert sent - 0.5 < result["heard"] < sent + 0.5, result  # not one frame lost


def test_live_spurts_are_heard_whole(tmp_path):
    port = _free_port()
    fs = EmbeddedFreeSwitch(socket_address=("127.0.0.1", port), time_scale=1.0,
                            media_dir=str(tmp_path))
    fs.start()
    try:
        check_live(run(("127.0.0.1", fs.inbound_address[1], fs.password), port, tmp_path,
                       live=True))
    finally:
        fs.stop()

