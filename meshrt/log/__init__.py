"""The replay log and what is built on it: the line format (records.py), the writer
(writer.py) and reader (reader.py), checkpoints (checkpoint.py), and verify/replay of a
finished run (replay.py)."""
