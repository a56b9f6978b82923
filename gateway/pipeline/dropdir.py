"""A watched drop directory: files dropped in are ingested once, then moved to ``processed/`` or ``failed/``.

Producers of files should write under a temporary name (``*.part`` or a dot-file) and rename when done; the
watcher also waits until a file's size has stayed the same for one poll. A file half-ingested when the process
dies stays in the drop directory; on restart its ingest resumes from the committed progress (see ``file_ingest``),
so it is neither lost nor duplicated; a file whose ingest committed but was not yet moved is only moved.

Files are ingested one at a time through ``FileIngestor``, so they share the connector's case store in the order
they were taken. While another ingest of the connector holds that store on this machine, files stay where they are
and are tried again at the next poll.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from gateway.errors import FatalError
from gateway.pipeline.file_ingest import FileIngestor, IngestLockedError, IngestSummary

_log = logging.getLogger(__name__)


def _candidates(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp"))
    )


def _move(path: Path, folder: Path, note: str) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    path.replace(target)
    target.with_name(target.name + ".result.json").write_text(note, encoding="utf-8")
    return target


def process_once(folder: Path, ingestor: FileIngestor, sizes: dict[Path, int] | None = None) -> list[IngestSummary]:
    """Ingest every stable file in the folder once; return their summaries.

    Args:
        folder: The drop directory.
        ingestor: Ingests one file exactly once.
        sizes: Sizes seen at the previous poll; a file is taken only when its size did not change. None takes
            every file at once (a one-shot run over files already complete).
    """
    done = []
    for path in _candidates(folder):
        size = path.stat().st_size
        if sizes is not None and sizes.get(path) != size:
            sizes[path] = size
            continue
        try:
            summary = ingestor.ingest(path)
        except IngestLockedError as exc:
            # Nothing is wrong with the file; it waits for the other ingest to finish.
            _log.warning("%s waits: %s", path, exc)
            break
        except FatalError as exc:
            _log.error("ingest of %s stopped: %s", path, exc)
            _move(path, folder / "failed", json.dumps({"file": str(path), "error": str(exc)}, indent=1))
            ingestor.observation.metrics.file(ingestor.connector.name, "failed")
            continue
        _move(path, folder / "processed", json.dumps(summary.to_dict(), indent=1, default=str))
        ingestor.observation.metrics.file(ingestor.connector.name, "processed")
        done.append(summary)
        if sizes is not None:
            sizes.pop(path, None)
    return done


def watch(folder: Path, ingestor: FileIngestor, *, poll_s: float = 1.0, stop: threading.Event | None = None) -> None:
    """Poll the drop directory until ``stop`` is set.

    The ingestor's observation gets the ingests' metrics; while it reads readiness, a probe checks that the broker
    answers (a drop directory has no partitions to wait for).
    """
    stop = stop or threading.Event()
    sizes: dict[Path, int] = {}
    with ingestor.observation.probe(ingestor.settings.kafka.to_librdkafka()):
        while not stop.is_set():
            process_once(folder, ingestor, sizes)
            stop.wait(poll_s)
