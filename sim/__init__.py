"""Deterministic simulation of the reference replica (DESIGN.md, "sim/").

N reference nodes run in one process on a simulated network and a virtual
clock, through the replica's own sans-I/O core (``replica.coordinator``,
``replica.protocol``, ``replica.records``, ``replica.antientropy``); only
sockets, timers, the disk and the wall clock are replaced. hypothesis draws
schedules and shrinks a failing one (``sim.search``).
"""
