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


#: The first frame after a silence goes to FreeSWITCH at once (not at its next frame) when it
#: comes within this long after FreeSWITCH's last frame and nothing went since that frame: the
#: next send (at FreeSWITCH's next frame) is then at least 20 - this ms later, so no two ever
#: land in one of FreeSWITCH's frames (docs/ai-agent.md, "Pacing").
SEND_AT_ONCE_S = 0.010
#: While the frames before it went at once (a live synthesiser keeping pace), a frame may still
#: go at once this long after FreeSWITCH's frame: a few ms of our own lateness near the 10 ms
#: edge no longer throws the rest of a talk spurt onto FreeSWITCH's next frames (20 ms later).
KEEP_AT_ONCE_S = 0.014
#: The service's audio ran out (the audio hook's stop: ParticipantAudioStop) when this many of
#: FreeSWITCH's frames in a row had nothing from us: a frame or two late by the network or a
#: busy core is not the end of the AI's speech.
STOP_AFTER_FRAMES = 3


class FrameLock:
    """When the service's audio may go to FreeSWITCH: one frame at each of FreeSWITCH's frames
    (`tick`), or at once when it arrives (`may_send_now`, then `sent_now`). Never two between
    two of FreeSWITCH's frames. Plain Python; times in seconds on one monotonic clock."""

    def __init__(self) -> None:
        self.frame_at: float | None = None  # when FreeSWITCH's last frame arrived
        self.sent_since = False  # a frame of ours went since it
        self.at_once_since = False  # ... at once
        self.at_once_run = False  # the last frame went at once, and none at a tick since
        self.idle_frames = 0  # FreeSWITCH's frames in a row with nothing from us

    def tick(self, now: float, sent: bool) -> bool:
        """FreeSWITCH's frame arrived and `sent` says whether one of ours went with it. True
        when the service's audio ran out: nothing went for STOP_AFTER_FRAMES frames."""
        idle = not sent and not self.at_once_since
        self.idle_frames = self.idle_frames + 1 if idle else 0
        if sent or idle:
            self.at_once_run = False
        self.frame_at, self.sent_since, self.at_once_since = now, sent, False
        return self.idle_frames >= STOP_AFTER_FRAMES

    def may_send_now(self, now: float) -> bool:
        """A frame arriving now (with nothing queued before it) may go at once."""
        if self.frame_at is None or self.sent_since:
            return False
        window = KEEP_AT_ONCE_S if self.at_once_run else SEND_AT_ONCE_S
        return now - self.frame_at < window

    def sent_now(self) -> None:
        self.sent_since = self.at_once_since = self.at_once_run = True
