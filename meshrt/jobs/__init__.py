"""Many independent runs of one scenario: the local process pool that runs them and the
per-process scenario cache its workers load once (shared by soak and sweep)."""
