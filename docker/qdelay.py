"""Delay queued packets: a small stand-in for `tc netem delay` (stdlib only).

Some kernels (this project's CI machine among them) are built without the netem
qdisc, so the Docker backend delays inter-node traffic with netfilter instead:
an iptables rule sends a node's outgoing packets for its peers to NFQUEUE, and
this daemon, running inside the node's network namespace, accepts each queued
packet only after `delay ± jitter` milliseconds. It speaks the nfnetlink_queue
protocol directly over a netlink socket, copying only packet metadata.

Usage: python3 qdelay.py --queue 0 --delay-ms 50 [--jitter-ms 5] [--pidfile PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import random
import signal
import socket
import struct

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NF_ACCEPT = 1
QUEUE_MAXLEN = 65536


def _attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    body = struct.pack("=HH", 4 + len(payload), kind) + payload
    return body + b"\0" * (-len(body) % 4)


def _message(msg: int, queue: int, attrs: bytes, flags: int = NLM_F_REQUEST) -> bytes:
    """nlmsghdr + nfgenmsg (AF_UNSPEC, version 0, big-endian queue number) + attrs."""
    payload = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack("!H", queue) + attrs
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg
    return struct.pack("=IHHII", 16 + len(payload), kind, flags, 0, 0) + payload


def _attributes(data: bytes) -> dict[int, bytes]:
    out = {}
    pos = 0
    while pos + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, pos)
        if length < 4:
            break
        out[kind & 0x7FFF] = data[pos + 4:pos + length]
        pos += (length + 3) & ~3
    return out


def _check_ack(sock: socket.socket) -> None:
    """Read the kernel's ack to a config message; raise on a netlink error."""
    data = sock.recv(65536)
    (kind,) = struct.unpack_from("=H", data, 4)
    if kind == NLMSG_ERROR:
        (code,) = struct.unpack_from("=i", data, 16)
        if code != 0:
            raise OSError(-code, os.strerror(-code))


def open_queue(queue: int) -> socket.socket:
    """Bind `queue` with metadata-only copies; returns a non-blocking socket."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((0, 0))
    for attrs in (
        _attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET)),
        _attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
        _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN)),
    ):
        sock.send(_message(NFQNL_MSG_CONFIG, queue, attrs, NLM_F_REQUEST | NLM_F_ACK))
        _check_ack(sock)
    sock.setblocking(False)
    return sock


def packet_ids(data: bytes) -> list[int]:
    """Ids of the queued packets announced in one netlink datagram."""
    ids = []
    pos = 0
    while pos + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, pos)
        if length < 16:
            break
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            attrs = _attributes(data[pos + 20:pos + length])
            if NFQA_PACKET_HDR in attrs:
                ids.append(struct.unpack_from("!I", attrs[NFQA_PACKET_HDR])[0])
        pos += (length + 3) & ~3
    return ids


async def serve(queue: int, delay_s: float, jitter_s: float, pidfile: str | None) -> None:
    sock = open_queue(queue)
    if pidfile:  # written once bound, so "pidfile exists" means "delaying"
        with open(pidfile, "w") as out:
            out.write(f"{os.getpid()}\n")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def accept(packet_id: int) -> None:
        verdict = _attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
        # OSError: the packet left with its queue; TCP retransmits.
        with contextlib.suppress(OSError):
            sock.send(_message(NFQNL_MSG_VERDICT, queue, verdict))

    def readable() -> None:
        while True:
            try:
                data = sock.recv(1 << 16)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:  # overrun: those packets were dropped
                    continue
                raise
            for packet_id in packet_ids(data):
                wait = max(0.0, delay_s + random.uniform(-jitter_s, jitter_s))
                loop.call_later(wait, accept, packet_id)

    loop.add_reader(sock.fileno(), readable)
    await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    asyncio.run(serve(args.queue, args.delay_ms / 1000, args.jitter_ms / 1000, args.pidfile))


if __name__ == "__main__":
    main()
