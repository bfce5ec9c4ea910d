"""Live venue feed adapters, one module per exchange (docs/live.md)."""
