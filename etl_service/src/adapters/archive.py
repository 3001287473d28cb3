"""Raw payload archive: every fetched body stored unchanged with its metadata, for replay.

Layout under ``base_path`` on any ``pyarrow.fs.FileSystem`` (local by default, S3 later)::

    <source>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSSffffffZ>_<sha256[:12]>.<ext>        the payload
    <source>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSSffffffZ>_<sha256[:12]>.<ext>.meta.json   its metadata

Each file is written under a temporary name and then moved into place, so a reader never sees
a partial payload; the metadata file is written last and marks the entry as complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow.fs as pafs

logger = logging.getLogger(__name__)

_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_META_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class ArchivedPayload:
    """Where one payload was archived and what is known about it."""

    path: str
    meta_path: str
    source: str
    url: str
    fetched_at: datetime
    sha256: str
    size: int
    revision: str | None = None
    extra: Mapping[str, Any] | None = None


class RawArchive:
    """Stores raw payloads with fetch time, URL and revision id, written atomically.

    Args:
        base_path: root folder, in the filesystem's own path syntax (``bucket/prefix`` on S3).
        filesystem: any ``pyarrow.fs.FileSystem``; defaults to the local filesystem.
    """

    def __init__(self, base_path: str, filesystem: pafs.FileSystem | None = None) -> None:
        self.base_path = base_path.rstrip("/")
        self.filesystem = filesystem or pafs.LocalFileSystem()

    def put(
        self,
        source: str,
        payload: bytes,
        *,
        url: str,
        fetched_at: datetime,
        revision: str | None = None,
        extension: str = "bin",
        extra: Mapping[str, Any] | None = None,
    ) -> ArchivedPayload:
        """Archive ``payload`` fetched from ``url`` at ``fetched_at`` under ``source``.

        Args:
            source: short lowercase name of the source, e.g. ``wikipedia``.
            payload: the body exactly as received.
            url: the URL it was fetched from.
            fetched_at: timezone-aware fetch time.
            revision: the source's own version id when it has one (Wikipedia revision id).
            extension: file extension of the payload (``html``, ``json``).
            extra: further JSON-serialisable metadata (status, headers).

        Returns:
            The archived entry.
        """
        if not _SOURCE_RE.match(source):
            raise ValueError(f"archive source must match {_SOURCE_RE.pattern}: {source!r}")
        if fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be timezone-aware")
        when = fetched_at.astimezone(UTC)
        digest = hashlib.sha256(payload).hexdigest()
        folder = f"{self.base_path}/{source}/{when:%Y-%m-%d}"
        name = f"{when:%Y%m%dT%H%M%S%fZ}_{digest[:12]}.{extension.lstrip('.')}"
        entry = ArchivedPayload(
            path=f"{folder}/{name}",
            meta_path=f"{folder}/{name}{_META_SUFFIX}",
            source=source,
            url=url,
            fetched_at=when,
            sha256=digest,
            size=len(payload),
            revision=revision,
            extra=dict(extra) if extra else None,
        )
        meta = {
            "source": source,
            "url": url,
            "fetched_at": when.isoformat(),
            "sha256": digest,
            "size": len(payload),
            "revision": revision,
            "extra": entry.extra,
        }
        self.filesystem.create_dir(folder, recursive=True)
        self._write_atomically(entry.path, payload)
        self._write_atomically(entry.meta_path, json.dumps(meta, sort_keys=True).encode())
        logger.info("archived %s (%d bytes, revision %s) as %s", url, len(payload), revision, name)
        return entry

    def read(self, path: str) -> bytes:
        """The payload stored at ``path``."""
        with self.filesystem.open_input_stream(path) as stream:
            data: bytes = stream.read()
        return data

    def entries(self, source: str) -> list[ArchivedPayload]:
        """All complete entries of ``source``, oldest first."""
        return [self._load_entry(path) for path in self._meta_paths(source)]

    def newest_first(self, source: str) -> Iterator[ArchivedPayload]:
        """The complete entries of ``source``, newest first, each read only when reached."""
        return (self._load_entry(path) for path in reversed(self._meta_paths(source)))

    def _meta_paths(self, source: str) -> list[str]:
        """The metadata files of ``source``, in time order (their names start with it)."""
        selector = pafs.FileSelector(
            f"{self.base_path}/{source}", recursive=True, allow_not_found=True
        )
        return sorted(
            info.path
            for info in self.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File and info.path.endswith(_META_SUFFIX)
        )

    def _load_entry(self, meta_path: str) -> ArchivedPayload:
        meta = json.loads(self.read(meta_path))
        return ArchivedPayload(
            path=meta_path[: -len(_META_SUFFIX)],
            meta_path=meta_path,
            source=meta["source"],
            url=meta["url"],
            fetched_at=datetime.fromisoformat(meta["fetched_at"]),
            sha256=meta["sha256"],
            size=meta["size"],
            revision=meta["revision"],
            extra=meta["extra"],
        )

    def _write_atomically(self, path: str, data: bytes) -> None:
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        try:
            with self.filesystem.open_output_stream(tmp) as stream:
                stream.write(data)
            self.filesystem.move(tmp, path)
        except BaseException:
            try:
                self.filesystem.delete_file(tmp)
            except (FileNotFoundError, OSError):
                logger.debug("no temporary file %s to remove", tmp)
            raise
