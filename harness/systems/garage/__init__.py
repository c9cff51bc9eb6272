"""Garage under test: the binary (binary.py, cargo on the host), its image
(image.py), cluster bootstrap (cluster.py), the S3 client (client.py), the
system (system.py)."""
