"""Assembling, driving and reporting a run: preflight.py checks a scenario before a run,
run.py builds the actors and runs or resumes them, replay.py verifies a finished run by
re-running it, run_folder.py claims the run's folder, digest.py names what a run is made
of, collector.py, interrupts.py and watchdog.py watch it while it runs, and summary.py
reports it."""
