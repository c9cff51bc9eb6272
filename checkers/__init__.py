"""Checkers: history model and formats, stale-read graph, linearizability,
durability and convergence, stats. Depends on nothing else in the project."""
