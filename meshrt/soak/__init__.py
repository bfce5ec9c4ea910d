"""Simulation testing at scale: many seeded random fault schedules applied to one
scenario, each run checked for invariants, reconciliation and determinism (docs/soak.md)."""
