"""Conference rooms: the per-room transition table (room.py), fed conference::maintenance events."""
