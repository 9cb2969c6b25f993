"""An AI stream through a real FreeSWITCH 1.10.12's unicast, the official plivo-stream-sdk as
the service: the run tests/aiagent/test_stream.py makes on the embedded FreeSWITCH."""

from __future__ import annotations

import pytest
from aiagent.stream_cases import check, run


@pytest.mark.parametrize("content_type", ["audio/x-l16;rate=8000", "audio/x-l16;rate=16000",
                                          "audio/x-mulaw;rate=8000"])
def test_stream_end_to_end(freeswitch, socket_port, tmp_path, content_type):
    check(run(freeswitch, socket_port, tmp_path, content_type), content_type)
