"""Assembling, driving and reporting a run: run.py builds the actors and runs or resumes
them, run_folder.py claims the run's folder, digest.py names what a run is made of,
collector.py, interrupts.py and watchdog.py watch it while it runs, and summary.py
reports it."""
