"""Talk spurts after silence on the embedded FreeSWITCH (tests/aiagent/pacing_cases.py; the
same run as tests/fs/test_ai_pacing_real.py)."""

from __future__ import annotations

from aiagent.pacing_cases import check, run
from aiagent.test_stream import _free_port
from plivoxml_fs.simulator import EmbeddedFreeSwitch


def test_spurts_are_heard_whole(tmp_path):
    port = _free_port()
    fs = EmbeddedFreeSwitch(socket_address=("127.0.0.1", port), time_scale=1.0,
                            media_dir=str(tmp_path))
    fs.start()
    try:
        check(run(("127.0.0.1", fs.inbound_address[1], fs.password), port, tmp_path))
    finally:
        fs.stop()
