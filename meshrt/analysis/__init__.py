"""Read-side tools over a finished (or crashed) run folder: order traces and TCA."""
