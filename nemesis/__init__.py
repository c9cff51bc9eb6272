"""Fault decisions: which fault, on which nodes, when. Mechanism lives in harness/backends."""
