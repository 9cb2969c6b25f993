"""What the service sent, played into the room one 20 ms frame at a time. Plain Python: the
effects loop calls `next_frame()` once a frame (FreeSWITCH does not pace what unicast receives:
docs/ai-agent.md)."""

from __future__ import annotations

from collections import deque

from plivoxml_fs.stream.audio import FS_FRAME_BYTES


class Pacer:
    """Queued L16 8 kHz audio and checkpoints, in the order the service sent them."""

    def __init__(self) -> None:
        self._items: deque[bytes | str] = deque()  # audio bytes or a checkpoint name (str)
        self._partial = b""
        self.queued_bytes = 0

    def push(self, audio: bytes) -> None:
        if audio:
            self._items.append(audio)
            self.queued_bytes += len(audio)

    def checkpoint(self, name: str) -> None:
        self._items.append(name)

    @property
    def pending_checkpoints(self) -> bool:
        return any(isinstance(item, str) for item in self._items)

    def clear(self) -> int:
        """Drop every queued frame (barge-in); returns the bytes dropped. Checkpoints queued
        behind the dropped audio are dropped too (they were never played)."""
        dropped = self.queued_bytes + len(self._partial)
        self._items.clear()
        self._partial = b""
        self.queued_bytes = 0
        return dropped

    def next_frame(self) -> tuple[bytes | None, list[str]]:
        """(the next frame or None when nothing is queued, checkpoints reached before it)."""
        reached: list[str] = []
        buf = self._partial
        while len(buf) < FS_FRAME_BYTES and self._items:
            item = self._items[0]
            if isinstance(item, str):
                if buf:
                    break  # the frame before the checkpoint goes out first
                reached.append(self._items.popleft())
                continue
            take = FS_FRAME_BYTES - len(buf)
            buf += item[:take]
            rest = item[take:]
            self.queued_bytes -= min(take, len(item))
            if rest:
                self._items[0] = rest
            else:
                self._items.popleft()
        if not buf:
            self._partial = b""
            while self._items and isinstance(self._items[0], str):
                reached.append(self._items.popleft())
            return None, reached
        if len(buf) < FS_FRAME_BYTES:  # a piece before a checkpoint or the end: padded
            buf += bytes(FS_FRAME_BYTES - len(buf))
        self._partial = b""
        while self._items and isinstance(self._items[0], str):
            # a checkpoint right after this frame is reached when the frame has gone out
            reached.append(self._items.popleft())
        return buf, reached
