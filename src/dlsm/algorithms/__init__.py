"""Pure math: optimisers, solvers, detectors, with no I/O and no plotting."""
