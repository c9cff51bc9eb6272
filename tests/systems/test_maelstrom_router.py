"""The Maelstrom router, message by message, with no process and no clock."""

from __future__ import annotations

import random

import orjson
import pytest

from harness.systems.maelstrom.router import Deliver, Discard, Router


def line(src: str, dest: str, kind: str, **body: object) -> bytes:
    return orjson.dumps({"src": src, "dest": dest, "body": {"type": kind, **body}})


def test_messages_go_where_dest_says_and_are_counted_by_type() -> None:
    router = Router(["n1", "n2"])
    [to_n2] = router.from_node("n1", line("n1", "n2", "gossip"), now=0.0)
    assert to_n2 == Deliver("n2", {"src": "n1", "dest": "n2", "body": {"type": "gossip"}})
    [to_client] = router.from_node("n2", line("n2", "c1", "read_ok", in_reply_to=3), 0.0)
    assert to_client.dest == "c1"
    stats = router.stats.to_dict()
    assert stats["server_by_type"] == {"gossip": 1}
    assert stats["client_by_type"] == {"read_ok": 1}


def test_a_node_cannot_speak_for_another() -> None:
    [delivery] = Router(["n1", "n2"]).from_node("n1", line("n2", "n2", "x"), 0.0)
    assert isinstance(delivery, Deliver) and delivery.message["src"] == "n1"


def test_a_grudge_drops_one_direction_only_and_never_a_client() -> None:
    router = Router(["n1", "n2", "n3"])
    router.partition({"n2": frozenset({"n1"})})  # n2 drops what n1 sends
    assert router.from_node("n1", line("n1", "n2", "x"), 0.0) == []
    assert len(router.from_node("n2", line("n2", "n1", "x"), 0.0)) == 1
    assert len(router.from_node("n1", line("n1", "n3", "x"), 0.0)) == 1
    assert len(router.from_node("n1", line("n1", "c1", "write_ok"), 0.0)) == 1
    assert len(router.from_client({"src": "c1", "dest": "n2", "body": {"type": "read"}})) == 1
    router.heal()
    assert len(router.from_node("n1", line("n1", "n2", "x"), 0.0)) == 1
    assert router.stats.dropped == {"partition": 1}


def test_delay_holds_messages_until_their_tick() -> None:
    router = Router(["n1", "n2"], random.Random(1))
    router.set_delay(0.5)
    assert router.from_node("n1", line("n1", "n2", "a"), now=10.0) == []
    assert router.next_due() == 10.5
    assert router.tick(10.4) == []
    [late] = router.tick(10.5)
    assert late.message["body"]["type"] == "a" and router.next_due() is None
    router.clear_delay()
    assert len(router.from_node("n1", line("n1", "n2", "b"), now=11.0)) == 1


def test_loss_drops_about_its_share() -> None:
    router = Router(["n1", "n2"], random.Random(7))
    router.set_delay(0.0, 0.0, loss=0.3)
    delivered = sum(len(router.from_node("n1", line("n1", "n2", "x"), 0.0))
                    for _ in range(2000))
    assert 1250 < delivered < 1550
    assert router.stats.dropped["loss"] == 2000 - delivered


def test_a_down_node_gets_nothing_even_what_was_held_for_it() -> None:
    router = Router(["n1", "n2"])
    router.set_delay(1.0)
    router.from_node("n1", line("n1", "n2", "x"), 0.0)
    router.node_down("n2")
    assert router.tick(2.0) == []
    assert router.from_client({"src": "c1", "dest": "n2", "body": {"type": "read"}}) == []
    router.node_up("n2")
    assert len(router.from_client({"src": "c1", "dest": "n2", "body": {"type": "r"}})) == 1
    assert router.stats.dropped == {"down": 2}


def test_lines_that_are_no_messages_are_discarded_and_counted() -> None:
    router = Router(["n1"])
    for text in (b"starting up\n", b"[1, 2]", b'{"dest": "n1"}', b'{"dest": 3, "body": {}}'):
        [action] = router.from_node("n1", text, 0.0)
        assert isinstance(action, Discard) and action.node == "n1"
    assert action.line == '{"dest": 3, "body": {}}'
    assert router.stats.not_messages == {"n1": 4}


def test_a_grudge_naming_unknown_nodes_is_refused() -> None:
    with pytest.raises(ValueError, match="n9"):
        Router(["n1", "n2"]).partition({"n9": frozenset({"n1"})})
