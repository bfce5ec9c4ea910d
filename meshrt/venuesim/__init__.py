"""``meshrt venue-sim``: a local exchange on 127.0.0.1 replaying captures through each
venue's websocket protocol and REST endpoints, with injectable faults (docs/live.md,
"venue-sim (the local exchange)")."""
