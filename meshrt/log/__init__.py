"""The replay log: the record definitions (schema.py) and their builders (records.py),
the writer (writer.py), the reader (reader.py, with validate.py and errors.py), and
checkpoints (checkpoint.py). Verifying a finished run re-runs it, so that lives with the
runtime (meshrt/runtime/replay.py)."""
