"""etcd under test: its image (image.py), its client (client.py), the system (system.py)."""
