"""Network fault rules inside one container's namespace, as shell scripts.

Pure functions (no Docker here), so the rules can be unit-tested; the backend
runs the scripts with `docker exec`. Everything lives in chains of our own:
  * filter/QUORUMLAB (jumped to from INPUT): partitions, `-s PEER -j DROP`;
  * mangle/QUORUMLAB_NET (jumped to from OUTPUT): random loss and delay of
    packets for peers (delay = NFQUEUE to docker/qdelay.py, since kernels
    without the netem qdisc are common in CI VMs).
Healing flushes only these chains: Docker keeps its own rules in the same tables.
"""

from __future__ import annotations

import shlex

PARTITION_CHAIN = "QUORUMLAB"
NET_CHAIN = "QUORUMLAB_NET"
QUEUE = 0
QDELAY = "/usr/local/lib/quorumlab/qdelay.py"
QDELAY_PID = "/run/quorumlab-qdelay.pid"
IPT = "iptables -w"


def init_script() -> str:
    """Create our chains and hook them in once (idempotent)."""
    return "\n".join([
        "set -e",
        f"{IPT} -N {PARTITION_CHAIN} 2>/dev/null || true",
        f"{IPT} -C INPUT -j {PARTITION_CHAIN} 2>/dev/null || {IPT} -I INPUT -j {PARTITION_CHAIN}",
        f"{IPT} -t mangle -N {NET_CHAIN} 2>/dev/null || true",
        f"{IPT} -t mangle -C OUTPUT -j {NET_CHAIN} 2>/dev/null"
        f" || {IPT} -t mangle -I OUTPUT -j {NET_CHAIN}",
    ])


def partition_script(drop_from: list[str]) -> str:
    """Replace the partition rules: drop every packet coming from `drop_from`."""
    lines = ["set -e", f"{IPT} -F {PARTITION_CHAIN}"]
    lines += [f"{IPT} -A {PARTITION_CHAIN} -s {ip} -j DROP" for ip in drop_from]
    return "\n".join(lines)


def stop_delay_script() -> str:
    """Flush loss/delay rules and stop the delay daemon if one runs."""
    return "\n".join([
        f"{IPT} -t mangle -F {NET_CHAIN}",
        f"if [ -f {QDELAY_PID} ]; then kill $(cat {QDELAY_PID}) 2>/dev/null || true;"
        f" rm -f {QDELAY_PID}; fi",
    ])


def delay_rules_script(peers: list[str], delay_ms: float, loss: float) -> str:
    """Loss then delay for packets to `peers` (the daemon must already listen)."""
    lines = ["set -e", f"{IPT} -t mangle -F {NET_CHAIN}"]
    for ip in peers:
        if loss > 0:
            lines.append(f"{IPT} -t mangle -A {NET_CHAIN} -d {ip} -m statistic --mode random"
                         f" --probability {loss:.6f} -j DROP")
        if delay_ms > 0:
            lines.append(f"{IPT} -t mangle -A {NET_CHAIN} -d {ip}"
                         f" -j NFQUEUE --queue-num {QUEUE} --queue-bypass")
    return "\n".join(lines)


def qdelay_command(delay_ms: float, jitter_ms: float) -> list[str]:
    """The delay daemon's command line (run detached with `docker exec -d`)."""
    return ["python3", QDELAY, "--queue", str(QUEUE), "--delay-ms", f"{delay_ms:g}",
            "--jitter-ms", f"{jitter_ms:g}", "--pidfile", QDELAY_PID]


def wait_for_file_script(path: str, seconds: float) -> str:
    """Exit 0 once `path` exists, 1 after `seconds`."""
    tries = max(1, int(seconds / 0.05))
    quoted = shlex.quote(path)
    return (f"i=0; while [ ! -f {quoted} ]; do i=$((i+1)); [ $i -gt {tries} ] && exit 1;"
            " sleep 0.05; done; exit 0")


def probe_script(urls: list[str], timeout_s: float) -> str:
    """Print one line of 1/0 per URL: did `GET url` get any HTTP answer in time?

    Run inside a node's namespace, so the probe crosses exactly the links that
    node's own requests do (python3 is in every image the backend runs).
    """
    program = (
        "import sys, urllib.error, urllib.request, concurrent.futures as cf\n"
        "def answers(url):\n"
        "    try:\n"
        f"        urllib.request.urlopen(url, timeout={timeout_s!r}).close()\n"
        "    except urllib.error.HTTPError:\n"
        "        return 1\n"
        "    except Exception:\n"
        "        return 0\n"
        "    return 1\n"
        "urls = sys.argv[1:]\n"
        "with cf.ThreadPoolExecutor(len(urls)) as pool:\n"
        "    print(' '.join(str(a) for a in pool.map(answers, urls)))\n")
    return " ".join(["python3", "-c", shlex.quote(program), *map(shlex.quote, urls)])
