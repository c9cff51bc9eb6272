"""Cluster backends: one interface (base.Backend), several mechanisms."""
