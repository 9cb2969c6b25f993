"""The room engine: the one owner of room state and of every room decision (no gevent).

model.py (states, reasons, seats, members, inputs and decisions), room.py (one `Room` per room:
join/leave/apply/tick/mute/hold/relate -> decisions), registry.py (`RoomEngine`: the rooms by
name then Conference-Unique-ID behind `RoomOwner`, the one path inputs and decisions take),
callbacks.py (what a member's conference callbacks carry), recordings.py (recording
names, URLs, the record callback's parameters), names.py (room names as users write them and
the FreeSWITCH room id each maps to). effects/rooms.py performs the decisions.
"""
