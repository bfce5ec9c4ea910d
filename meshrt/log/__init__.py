"""The replay log and what is built on it: the record definitions (schema.py) and their
builders (records.py), the writer (writer.py) and reader (reader.py, with validate.py
and errors.py), checkpoints (checkpoint.py), and verify/replay of a finished run
(replay.py)."""
