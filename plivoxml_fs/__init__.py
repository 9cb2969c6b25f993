"""plivoxml-fs: execute Plivo-style XML call control on FreeSWITCH over the event socket."""

__version__ = "0.1.0"
