"""Parameter sweeps: one scenario run at every point of a grid of deployment params (or at
K random points of it), each run's PnL, fees, fills, drawdown and markouts collected
(docs/sweep.md)."""
