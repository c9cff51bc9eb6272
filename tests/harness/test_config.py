"""Run options: bad values are one-line ConfigErrors; configs round-trip."""

from __future__ import annotations

import pytest

from harness.config import ConfigError, RunConfig


@pytest.mark.parametrize(("changes", "message"), [
    ({"r": 1, "w": 1}, "no quorum system"),
    ({"r": 6}, "--r must be between"),
    ({"nodes": 0}, "--nodes"),
    ({"n": 7}, "--n must be"),
    ({"read_ratio": 1.5}, "--read-ratio"),
    ({"time_limit": 0}, "--time-limit"),
    ({"mode": "gossip"}, "--mode"),
    ({"name": "../etc"}, "--name"),
    ({"replica_cmd": "./srv --port {port}"}, "unknown field(s) port"),
    ({"replica_bugs": ["r=w=1"]}, "unknown --replica-bug 'r=w=1'"),
    ({"replica_cmd": "./srv {id}"}, "{listen}"),
    ({"replica_image": "mine:1", "backend": "local"}, "runs on the docker backend, not local"),
    ({"replica_image": "mine:1", "replica_bugs": ["amnesia"]}, "only to the reference replica"),
    ({"replica_image": " "}, "--replica-image must name an image"),
    ({"replica_image": "mine:1", "system": "etcd"}, "--replica-image applies only to the http"),
])
def test_bad_values_are_refused(changes: dict, message: str) -> None:
    config = RunConfig(**changes)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        config.validate()
    assert "\n" not in str(info.value)


def test_weak_quorum_allowed_when_asked() -> None:
    RunConfig(r=1, w=1, allow_weak_quorum=True).validate()


def test_round_trip_through_dict() -> None:
    config = RunConfig(seed=42, nemesis=["kill"], replica_bugs=["early-ack"])
    assert RunConfig.from_dict(config.to_dict()) == config


def test_unknown_field_in_stored_config() -> None:
    with pytest.raises(ConfigError, match="unknown config field"):
        RunConfig.from_dict({"colour": "blue"})


def test_replay_takes_the_stored_plan_and_this_runs_output(tmp_path) -> None:
    import orjson

    from harness.run_command import replayed_config

    stored = RunConfig(seed=99, nemesis=["kill"], keys=3, store_dir="elsewhere", test_count=4)
    (tmp_path / "config.json").write_bytes(orjson.dumps({"config": stored.to_dict()}))
    config = replayed_config(tmp_path, "here", 1)
    assert config.seed == 99 and config.nemesis == ["kill"] and config.keys == 3
    assert config.store_dir == "here" and config.test_count == 1
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a run folder"):
        replayed_config(tmp_path, "here", 1)
