"""The replay log: the line format (records.py), the writer (writer.py) and reader
(reader.py), and checkpoints (checkpoint.py). Verifying a finished run re-runs it, so
that lives with the runtime (meshrt/runtime/replay.py)."""
