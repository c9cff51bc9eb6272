"""Node command lines: one builder for every backend, one quoting rule for templates."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from harness.backends.base import ClusterSpec
from harness.backends.node_commands import (
    NodePlace,
    agent_command,
    fill_template,
    node_command,
    node_environment,
)

AWKWARD = "/tmp/my runs/it's \"here\""
PLACE = NodePlace("n1", "127.0.0.1:7001", "n1=127.0.0.1:7001,n2=127.0.0.1:7002", AWKWARD,
                  "/tmp/n1.clock-offset")


def spec(**changes) -> ClusterSpec:
    return ClusterSpec(run_id="t", run_dir=Path("/tmp/t"), nodes=("n1", "n2"), n=2, r=1, w=2,
                       **changes)


def flag(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_template_fields_with_spaces_and_quotes_stay_one_word_each() -> None:
    cmd = node_command(spec(replica_cmd="./srv --id {id} --data {data_dir} --listen {listen}"),
                       "python", PLACE)
    assert cmd == ["./srv", "--id", "n1", "--data", AWKWARD, "--listen", "127.0.0.1:7001"]


def test_template_quoting_inside_a_quoted_word_of_the_template() -> None:
    # the template's own quotes group words; a field needing no quotes goes in as it is
    cmd = fill_template("python3 -c \"print('{data_dir}')\"", data_dir="/data")
    assert cmd == ["python3", "-c", "print('/data')"]


def test_a_template_is_split_into_words_not_run_by_a_shell() -> None:
    cmd = fill_template("srv {id}; rm -rf /", id="n1")
    assert cmd == ["srv", "n1;", "rm", "-rf", "/"]
    assert fill_template("sh -c 'exec srv --id \"$0\"' {id}", id="a b") == [
        "sh", "-c", 'exec srv --id "$0"', "a b"]


@pytest.mark.parametrize(("template", "message"), [
    ("srv {port}", r"unknown placeholder \{port\}"),
    ("srv 'unclosed {id}", "--replica-cmd: No closing quotation"),
    ("srv {0}", "--replica-cmd"),
])
def test_malformed_templates_are_one_line_errors(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        fill_template(template, id="n1")
    assert "\n" not in str(err.value)


def test_reference_replica_gets_every_setting_of_the_spec() -> None:
    cmd = node_command(spec(bugs=("early-ack", "amnesia"), allow_weak_quorum=True,
                            request_timeout=0.25, anti_entropy_interval=2.0), "py", PLACE)
    assert cmd[:3] == ["py", "-m", "replica"]
    assert flag(cmd, "--id") == "n1" and flag(cmd, "--data-dir") == AWKWARD
    assert flag(cmd, "--peers") == PLACE.peers and flag(cmd, "--listen") == PLACE.listen
    assert (flag(cmd, "--n"), flag(cmd, "--r"), flag(cmd, "--w")) == ("2", "1", "2")
    assert flag(cmd, "--request-timeout") == "0.25"
    assert flag(cmd, "--anti-entropy-interval") == "2.0"
    assert flag(cmd, "--clock-offset-file") == "/tmp/n1.clock-offset"
    assert [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--bug"] == ["early-ack", "amnesia"]
    assert "--allow-weak-quorum" in cmd
    assert shlex.split(shlex.join(cmd)) == cmd


def test_agent_runs_the_protocol_with_the_bugs_and_no_storage() -> None:
    cmd = agent_command(spec(bugs=("early-ack",)), "py", "0.0.0.0:8000", PLACE.peers)
    assert cmd[:3] == ["py", "-m", "replica.agent"]
    assert flag(cmd, "--bug") == "early-ack" and flag(cmd, "--listen") == "0.0.0.0:8000"
    assert "--data-dir" not in cmd and "--id" not in cmd


def test_an_agent_fronts_a_third_party_cluster_too() -> None:
    cmd = agent_command(spec(replica_cmd="./srv {listen}"), "py", "127.0.0.1:9", PLACE.peers)
    assert cmd[:3] == ["py", "-m", "replica.agent"]


def test_an_image_with_its_own_entrypoint_is_told_the_template_fields_in_its_environment() -> None:
    env = node_environment(spec(), PLACE)
    assert env == {"QUORUMLAB_ID": "n1", "QUORUMLAB_LISTEN": "127.0.0.1:7001",
                   "QUORUMLAB_PEERS": "n1=127.0.0.1:7001,n2=127.0.0.1:7002",
                   "QUORUMLAB_DATA_DIR": AWKWARD, "QUORUMLAB_N": "2", "QUORUMLAB_R": "1",
                   "QUORUMLAB_W": "2", "QUORUMLAB_CLOCK_OFFSET_FILE": "/tmp/n1.clock-offset"}
