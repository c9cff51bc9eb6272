"""Clock skew for programs that are not ours: libfaketime's offset file.

A container cannot set the clock (it is the host's), so the docker backend
skews a node by writing an offset into ``/data/clock-offset``. The reference
replica reads that file itself. Any other program that reads the wall clock
through libc (C, C++, Rust: Garage) is run with Debian's libfaketime preloaded
and ``FAKETIME_TIMESTAMP_FILE`` pointing at the same file, which libfaketime
re-reads at run time. A program that reads the clock without libc (Go
binaries such as etcd, which call the vDSO themselves) is out of its reach: its
system says so (``System.clock_unreachable``) and clock skew is refused for it.

libfaketime takes a relative offset only with a sign ("+1.5", "-0.25"): a bare
number reads as an absolute date and fails.
"""

from __future__ import annotations


def faketime_offset(offset_s: float) -> str:
    """The offset file's text for libfaketime: signed seconds, millisecond precision."""
    return f"{offset_s:+.3f}\n"
