"""Progress lines for the long image steps (debootstrap, wheel download, build).

A cold image build takes minutes, so the user must see what is happening; on a
terminal a live status line shows the latest output, elsewhere (CI logs) only
the step headings are printed so logs stay short.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from types import TracebackType

from rich.console import Console


class Progress(AbstractContextManager["Progress"]):
    """Step headings plus a transient detail line, written to stderr."""

    def __init__(self, console: Console | None = None, quiet: bool = False) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self._status = None
        self._started = time.monotonic()

    def step(self, text: str) -> None:
        """A heading that always stays in the output."""
        if not self.quiet:
            elapsed = time.monotonic() - self._started
            self.console.print(f"[bold]image[/bold] {elapsed:6.1f}s  {text}", markup=True)

    def detail(self, text: str) -> None:
        """The latest sub-step (shown live on a terminal, dropped otherwise)."""
        if self.quiet or not self.console.is_terminal:
            return
        text = text.strip()[:120]
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
