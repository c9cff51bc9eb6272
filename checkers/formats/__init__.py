"""History formats: load any supported file (or run folder) into a :class:`History`.

Each format lives in its own module exposing ``load(path) -> History`` and
``sniff(text) -> bool``; this module only picks one. Modules are imported lazily
so a missing or broken optional format never stops the others from working.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType

from checkers.errors import HistoryError
from checkers.history import History

RUN_HISTORY = "history.jsonl"

# Format name -> module. Auto-detection tries them in this order: the most
# specific content signatures first (EDN maps with :key before generic EDN).
FORMAT_MODULES: dict[str, str] = {
    "jsonl": "checkers.formats.jsonl",
    "porcupine-kv": "checkers.formats.porcupine_kv",
    "jepsen-log": "checkers.formats.jepsen_log",
    "edn": "checkers.formats.edn",
}

# The model a format implies, where it implies one; for the others the model
# follows from the ops (checkers.api.infer_model).
FORMAT_MODELS: dict[str, str] = {
    "jepsen-log": "cas-register",
    "porcupine-kv": "kv",
}

# The format a file name's extension names; .txt (Porcupine's kv files, and
# anything else) says nothing, so the content decides.
FORMAT_BY_SUFFIX: dict[str, str] = {
    ".jsonl": "jsonl",
    ".edn": "edn",
    ".log": "jepsen-log",
}

SNIFF_BYTES = 64 * 1024


def resolve(path: str | Path) -> Path:
    """A history file, or a run folder's ``history.jsonl``."""
    path = Path(path)
    if path.is_dir():
        candidate = path / RUN_HISTORY
        if not candidate.is_file():
            raise HistoryError(f"folder has no {RUN_HISTORY}", path=str(path))
        return candidate
    if not path.exists():
        raise HistoryError("no such file or folder", path=str(path))
    return path


def detect_format(path: str | Path) -> str:
    """A file's format: the one its extension names, else a guess from its first
    bytes (a torn or malformed file then gets its own format's error, not another
    format's); HistoryError when nothing fits."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise HistoryError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    text = head.decode("utf-8", errors="replace")
    if not text.strip():
        raise HistoryError("history is empty", path=str(path))
    by_suffix = FORMAT_BY_SUFFIX.get(Path(path).suffix.lower())
    if by_suffix is not None:
        return by_suffix
    for name in FORMAT_MODULES:
        module = _format_module(name, required=False)
        if module is not None and module.sniff(text):
            return name
    raise HistoryError(
        "cannot tell the history format from its content; pass --format "
        f"({', '.join(FORMAT_MODULES)})",
        path=str(path),
    )


def load_history(path: str | Path, format: str = "auto") -> History:
    """Load a history file or run folder in ``format`` (``auto``: from the file
    name's extension, else from the content)."""
    file = resolve(path)
    name = detect_format(file) if format == "auto" else format
    if name not in FORMAT_MODULES:
        raise HistoryError(
            f"unknown format {name!r}; expected auto or one of {', '.join(FORMAT_MODULES)}"
        )
    history = _format_module(name, required=True).load(file)
    if not history.events:
        raise HistoryError("history has no events", path=str(file))
    return history


def _format_module(name: str, *, required: bool) -> ModuleType | None:
    try:
        return import_module(FORMAT_MODULES[name])
    except ModuleNotFoundError as exc:
        if exc.name != FORMAT_MODULES[name]:
            raise
        if required:
            raise HistoryError(f"the {name} format is not available in this build") from None
        return None
