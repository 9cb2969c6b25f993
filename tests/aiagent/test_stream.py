"""An AI stream on the embedded FreeSWITCH with the official plivo-stream-sdk as the service
(tests/aiagent/stream_cases.py; the same run as tests/fs/test_aistream_real.py)."""

from __future__ import annotations

import socket

import pytest

from aiagent.stream_cases import check, run
from plivoxml_fs.simulator import EmbeddedFreeSwitch


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("content_type", ["audio/x-l16;rate=8000", "audio/x-l16;rate=16000",
                                          "audio/x-mulaw;rate=8000"])
def test_stream_end_to_end(tmp_path, content_type):
    port = _free_port()
    fs = EmbeddedFreeSwitch(socket_address=("127.0.0.1", port), time_scale=1.0,
                            media_dir=str(tmp_path))
    fs.start()
    try:
        check(run(("127.0.0.1", fs.inbound_address[1], fs.password), port, tmp_path,
                  content_type), content_type)
    finally:
        fs.stop()
