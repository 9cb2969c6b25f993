"""An embedded FreeSWITCH: speaks inbound and outbound ESL like FreeSWITCH 1.10.12 does.

`EmbeddedFreeSwitch` (server.py) is the entry point; `ChannelRecord` is one line of a
channel's history.
"""

from plivoxml_fs.simulator.channels import Channel, ChannelRecord
from plivoxml_fs.simulator.server import EmbeddedFreeSwitch

__all__ = ["Channel", "ChannelRecord", "EmbeddedFreeSwitch"]
