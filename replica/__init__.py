"""The reference leaderless replica: a quorum key-value store with switchable bugs.

Depends on nothing else in the project, so it can run alone inside a container.
"""
