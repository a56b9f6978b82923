"""The built-in file-drop transport: each message becomes one file in a directory, appearing whole or not at all.

The body is written to a hidden temporary file in the same directory, synced, then linked to its final name, which
fails if that name exists: so a reader never sees a partial file, and a second delivery of the same message is
detected instead of overwriting. The name is ``<ordering key>.<sequence, 10 digits>.<message id><extension>``: a
reader sorting a case's files by name reads them in order.

A ledger (``.delivered/<message id>``) remembers every id delivered, so a re-delivery is still a duplicate after the
target's reader has taken the file away. It is written after the file: a crash in between costs at most a second
copy of a file the reader already took, never a lost message.
"""

from __future__ import annotations

import errno
import hashlib
import os
import uuid
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from gateway.delivery.outbox import OutboxMessage
from gateway.delivery.transport import SendOutcome, SendResult, TransientDeliveryError

__all__ = ["FileDropOptions", "FileDropTransport", "drop_name"]

_EXTENSIONS = {"application/xml": ".xml", "text/xml": ".xml", "application/json": ".json", "text/plain": ".txt"}
_LEDGER = ".delivered"
_MAX_KEY_CHARS = 80


class FileDropOptions(BaseModel):
    """Options of the file-drop transport.

    Attributes:
        directory: Where the files go; created if missing.
        fsync: Sync each file and the directory before reporting it delivered (off only for tests and benchmarks).
        ledger: Remember delivered ids, so a re-delivery after the file was taken away is still a duplicate.
        extension: File extension; default from the content type (``.xml`` for XML, ``.bin`` if unknown).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: Path
    fsync: bool = True
    ledger: bool = True
    extension: str | None = Field(default=None, pattern=r"^\.[A-Za-z0-9]{1,10}$")


def drop_name(message: OutboxMessage, extension: str | None = None) -> str:
    """The file name of a message: ordering key (made file-safe), zero-padded sequence, id, extension."""
    key = quote(message.ordering_key, safe="-_")
    if len(key) > _MAX_KEY_CHARS or key.startswith("."):
        key = "k" + hashlib.sha256(message.ordering_key.encode()).hexdigest()[:32]
    ext = extension or _EXTENSIONS.get(message.content_type.split(";")[0].strip(), ".bin")
    return f"{key}.{message.sequence:010d}.{message.message_id}{ext}"


class FileDropTransport:
    """Writes each message as one file, atomically and at most once per id.

    Args:
        options: The directory and durability settings.
    """

    name = "filedrop"
    options_model: ClassVar[type[BaseModel]] = FileDropOptions

    def __init__(self, options: FileDropOptions) -> None:
        self.options = options
        self.directory = options.directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ledger = self.directory / _LEDGER
        if options.ledger:
            self._ledger.mkdir(exist_ok=True)

    def send(self, message: OutboxMessage) -> SendResult:
        """Drop the message's file, or report a duplicate if this id was delivered before.

        Raises:
            TransientDeliveryError: The file could not be written (disk full, I/O error, permissions): not the
                message's fault, so it is retried rather than dead-lettered.
        """
        final = self.directory / drop_name(message, self.options.extension)
        marker = self._ledger / message.message_id
        if (self.options.ledger and marker.exists()) or final.exists():
            return SendResult(SendOutcome.DUPLICATE, "exists", None, final.name)
        tmp = self.directory / f".{final.name}.{uuid.uuid4().hex}.tmp"
        try:
            self._write(tmp, message.body)
            try:
                os.link(tmp, final)  # atomic, and refuses to replace: a concurrent or earlier copy wins
            except FileExistsError:
                return SendResult(SendOutcome.DUPLICATE, "exists", None, final.name)
            finally:
                tmp.unlink(missing_ok=True)
            if self.options.ledger:
                marker.touch()
            if self.options.fsync:
                self._sync_directory()
        except OSError as exc:
            raise TransientDeliveryError(
                f"cannot write {final}: {exc}", code=f"os-{errno.errorcode.get(exc.errno or 0, 'error')}"
            ) from exc
        return SendResult(SendOutcome.ACCEPTED, "accepted", None, final.name)

    def _write(self, path: Path, body: bytes) -> None:
        with path.open("xb") as fh:
            fh.write(body)
            if self.options.fsync:
                fh.flush()
                os.fsync(fh.fileno())

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Nothing to release."""
