"""The AI agent stream (issue 13): Plivo's stream protocol, sans-IO (protocol.py, audio.py,
pacing.py); its gevent I/O is effects/aistream.py."""
