"""A regression suite for a replica implementation: copy this folder and point it at yours.

    pytest examples/regression_suite                      # the reference replica, local
    QUORUMLAB_REPLICA_CMD='my-node --listen {listen} --peers {peers} ...' \\
        pytest examples/regression_suite                  # your implementation
    QUORUMLAB_REPLICA_IMAGE=my-replica:dev pytest examples/regression_suite \
        --quorumlab-backend docker                        # yours, as a Docker image
    pytest examples/regression_suite --quorumlab-backend docker --quorumlab-seed 7

Each test gets a fresh 5-node cluster (r = w = 3) from the `quorumlab_cluster`
fixture, runs the harness's workload under one fault for a few seconds with
`quorumlab_run`, and `assert_valid` fails with every anomaly explained.
"""

import os

import pytest

REPLICA_CMD = os.environ.get("QUORUMLAB_REPLICA_CMD")  # None: the reference replica
# An image of yours, started by REPLICA_CMD or its own entrypoint (README,
# "Your replica as an image"); tests with it skip on the local backend.
REPLICA_IMAGE = os.environ.get("QUORUMLAB_REPLICA_IMAGE")
FAULTS = ["kill", "pause", "partition-halves", "partition-isolate", "partition-ring", "delay",
          "clock-skew"]

pytestmark = pytest.mark.quorumlab(nodes=5, r=3, w=3, replica_cmd=REPLICA_CMD,
                                   replica_image=REPLICA_IMAGE)


@pytest.mark.parametrize("nemesis", FAULTS)
def test_valid_under_each_fault(quorumlab_cluster, quorumlab_run, assert_valid, nemesis):
    report = quorumlab_run(quorumlab_cluster, time_limit=6, nemesis=nemesis,
                           nemesis_interval=2)
    assert_valid(report)


@pytest.mark.skipif(REPLICA_CMD is not None or REPLICA_IMAGE is not None,
                    reason="bug switches are the reference replica's")
@pytest.mark.quorumlab(replica_cmd=None, replica_image=None, replica_bugs=["local-version"])
def test_a_bug_switch_is_caught(quorumlab_cluster, quorumlab_run):
    # Versions from a node's own counter collide under concurrent writes, even
    # with no fault at all: the suite must see it, or it proves nothing.
    report = quorumlab_run(quorumlab_cluster, time_limit=6, nemesis="none")
    assert report.verdict is False
    kinds = {anomaly.kind for result in report.results for anomaly in result.anomalies}
    assert kinds & {"version-collision", "lost-write", "stale-read", "non-monotonic-read"}
