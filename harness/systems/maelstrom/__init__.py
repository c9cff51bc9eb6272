"""Maelstrom node programs under test: router.py decides (sans-I/O),
network.py is the processes and pipes, client.py the lin-kv ops."""
