"""Fault decisions: which fault, on which nodes, when (kinds.py is the registry of
fault kinds, capabilities.py what they need of a backend). Mechanism lives in
harness/backends."""
