"""Clusters that outlive a command: exploratory sessions and the pytest plugin.

`quorumlab run` starts a cluster, tests it and tears it down in one process. A
person exploring a store (`quorumlab cluster up`, `fault`, `kv`, `load`) and a
regression suite (harness/pytest_plugin.py) need a cluster that stays up
between commands or tests. live.py holds such a cluster; session.py records
what is done to it into one history, as a run would; supervisor.py is the
detached process that owns it for the shell commands, and control.py and
state.py are how those commands find and talk to it.
"""
