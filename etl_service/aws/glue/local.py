"""The part of the awsglue API the Glue job uses, on plain PySpark, for runs off AWS.

awsglue ships only inside Glue (and its container image), so ``api.load`` falls back on
this module when ``import awsglue`` fails. Names and signatures follow awsglue's own
(``getResolvedOptions``, ``GlueContext``, ``Job``, ``DynamicFrame``, ``ApplyMapping``,
``ResolveChoice``, ``SelectFromCollection``) and awsgluedq's ``EvaluateDataQuality``
(``local_dq``); what they do is the documented behaviour on DataFrames:

- a DynamicFrame is a DataFrame (no choice types arise, so ``ResolveChoice`` casts);
- reads cover local files (``file`` or ``s3`` connections on local paths) and the catalog
  through a reader the caller provides; ``Job`` keeps bookmarks in a JSON file under
  ``--TempDir`` (Glue keeps them in the service), so a read with a ``transformation_ctx``
  returns only files it has not returned before, once ``Job.commit`` ran;
- a Glue connection's JDBC configuration comes from a mapping the caller provides.

What one SparkContext's contexts share (bookmarks, catalog, connections) is kept per
SparkContext, as Glue keeps it in the JVM.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import os
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl_service.aws.glue.local_dq import EvaluateDataQuality

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "ApplyMapping",
    "DynamicFrame",
    "DynamicFrameCollection",
    "EvaluateDataQuality",
    "GlueArgumentError",
    "GlueContext",
    "Job",
    "ResolveChoice",
    "SelectFromCollection",
    "getResolvedOptions",
]

logger = logging.getLogger(__name__)

CatalogReader = Callable[[str, str], "DataFrame"]
"""``(database, table) -> DataFrame``: how ``from_catalog`` reads a table off AWS."""

BOOKMARK_OPTIONS = ("job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable")
_RESERVED = ("JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION")


class GlueArgumentError(Exception):
    """A job argument is missing or malformed (awsglue's own error type)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise GlueArgumentError(message)


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, Any]:  # noqa: N802
    """The job's named arguments (``--NAME value``), each of ``options`` required.

    As in awsglue: ``args[0]`` is the script, unknown arguments are ignored, and
    ``job_bookmark_option`` defaults to ``job-bookmark-disable``.
    """
    parser = _Parser(allow_abbrev=False)
    parser.add_argument("--job-bookmark-option", choices=BOOKMARK_OPTIONS, required=False)
    for reserved in (*_RESERVED, "TempDir", "RedshiftTempDir"):
        parser.add_argument(f"--{reserved}", required=False)
    for option in options:
        if option in _RESERVED or option == "job-bookmark-option":
            raise RuntimeError(f"Using reserved arguments {option}")
        if option not in {"TempDir", "RedshiftTempDir"}:
            parser.add_argument(f"--{option}", required=True)
    parsed, _ = parser.parse_known_args(list(args[1:]))
    resolved = vars(parsed)
    resolved["job_bookmark_option"] = resolved["job_bookmark_option"] or BOOKMARK_OPTIONS[2]
    return resolved


@dataclass
class _Shared:
    """What every GlueContext of one SparkContext sees, as in Glue's JVM."""

    catalog: CatalogReader | None = None
    connections: dict[str, dict[str, str]] = field(default_factory=dict)
    bookmarks: _Bookmarks | None = None


_SHARED: weakref.WeakKeyDictionary[Any, _Shared] = weakref.WeakKeyDictionary()


class GlueContext:
    """A SparkSession with Glue's readers; ``catalog`` and ``connections`` options (local
    only) give ``from_catalog`` and ``extract_jdbc_conf`` their sources."""

    def __init__(self, sparkContext: SparkContext | SparkSession | None = None, **options: Any):  # noqa: N803
        from pyspark.sql import SparkSession

        if isinstance(sparkContext, SparkSession):
            session = sparkContext
        else:
            session = SparkSession.builder.getOrCreate()
        self.spark_session = session
        self.sparkSession = session
        self._sc = session.sparkContext
        shared = _SHARED.setdefault(self._sc, _Shared())
        if options.get("catalog") is not None:
            shared.catalog = options["catalog"]
        shared.connections.update(options.get("connections") or {})
        self._shared = shared
        self.create_dynamic_frame = DynamicFrameReader(self)

    def extract_jdbc_conf(
        self, connection_name: str, catalog_id: str | None = None
    ) -> dict[str, str]:
        """The ``user``, ``password``, ``vendor`` and ``url`` of a JDBC connection."""
        try:
            return dict(self._shared.connections[connection_name])
        except KeyError:
            raise GlueArgumentError(f"no Glue connection named {connection_name!r}") from None

    def get_logger(self) -> logging.Logger:
        return logger


class DynamicFrame:
    """A DataFrame under DynamicFrame's names (its schema never holds choice types)."""

    def __init__(self, jdf: DataFrame, glue_ctx: GlueContext, name: str = "") -> None:
        self._df = jdf
        self.glue_ctx = glue_ctx
        self.name = name

    @classmethod
    def fromDF(cls, dataframe: DataFrame, glue_ctx: GlueContext, name: str = "") -> DynamicFrame:  # noqa: N802
        return cls(dataframe, glue_ctx, name)

    def toDF(self, options: Any = None) -> DataFrame:  # noqa: N802
        return self._df

    def count(self) -> int:
        return int(self._df.count())

    def apply_mapping(
        self,
        mappings: Iterable[tuple[str, str, str, str]],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,  # noqa: N803
        totalThreshold: int = 0,  # noqa: N803
    ) -> DynamicFrame:
        """Only the mapped fields, renamed and cast; a missing source field is null."""
        from pyspark.sql import functions as sf

        present = {c if case_sensitive else c.lower(): c for c in self._df.columns}
        columns = []
        for source, _, target, target_type in mappings:
            found = present.get(source if case_sensitive else source.lower())
            value = sf.col(f"`{found}`") if found else sf.lit(None)
            columns.append(value.cast(_spark_type(target_type)).alias(target))
        return DynamicFrame(self._df.select(*columns), self.glue_ctx, transformation_ctx)

    def resolveChoice(  # noqa: N802
        self,
        specs: Iterable[tuple[str, str]] | None = None,
        choice: str = "",
        database: str | None = None,
        table_name: str | None = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,  # noqa: N803
        totalThreshold: int = 0,  # noqa: N803
        catalog_id: str | None = None,
    ) -> DynamicFrame:
        """``cast:<type>`` specs cast their column; no other action arises without choices."""
        frame = self._df
        for path, action in specs or []:
            kind, _, target = action.partition(":")
            if kind != "cast":
                raise GlueArgumentError(f"unsupported resolve action {action!r} on {path}")
            frame = frame.withColumn(path, frame[f"`{path}`"].cast(_spark_type(target)))
        return DynamicFrame(frame, self.glue_ctx, transformation_ctx)


def _spark_type(glue_type: str) -> str:
    return {"long": "bigint", "integer": "int"}.get(glue_type, glue_type)


class GlueTransform:
    """awsglue's transforms: ``Transform.apply(...)`` calls a new instance."""

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        return cls()(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


class ApplyMapping(GlueTransform):
    """``ApplyMapping.apply(frame=, mappings=, transformation_ctx=)``."""

    def __call__(
        self,
        frame: DynamicFrame,
        mappings: Any,
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx)


class ResolveChoice(GlueTransform):
    """``ResolveChoice.apply(frame=, specs=, transformation_ctx=)``."""

    def __call__(
        self,
        frame: DynamicFrame,
        specs: Any = None,
        choice: str = "",
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        return frame.resolveChoice(specs, choice, transformation_ctx=transformation_ctx)


class DynamicFrameCollection:
    """Named DynamicFrames (what ``EvaluateDataQuality.process_rows`` returns)."""

    def __init__(self, dynamic_frames: Mapping[str, DynamicFrame], glue_ctx: GlueContext) -> None:
        self._frames = dict(dynamic_frames)
        self.glue_ctx = glue_ctx

    def __getitem__(self, key: str) -> DynamicFrame:
        return self._frames[key]

    def keys(self) -> list[str]:
        return list(self._frames)


class SelectFromCollection(GlueTransform):
    """``SelectFromCollection.apply(dfc=, key=)``."""

    def __call__(
        self, dfc: DynamicFrameCollection, key: str, transformation_ctx: str = ""
    ) -> DynamicFrame:
        return dfc[key]


class DynamicFrameReader:
    """``glue_context.create_dynamic_frame.from_options`` and ``.from_catalog``."""

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue = glue_context

    def from_options(
        self,
        connection_type: str,
        connection_options: Mapping[str, Any] | None = None,
        format: str | None = None,
        format_options: Mapping[str, Any] | None = None,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        """Files under ``paths`` (``recurse``, ``exclusions`` as glob patterns), minus those
        a bookmarked ``transformation_ctx`` already returned."""
        if connection_type not in {"s3", "file"}:
            raise GlueArgumentError(f"local runs read files only, not {connection_type!r}")
        options = dict(connection_options or {})
        files = _files(options.get("paths", []), bool(options.get("recurse")), _exclusions(options))
        bookmarks = self._glue._shared.bookmarks
        if bookmarks is not None and transformation_ctx:
            files = bookmarks.unseen(transformation_ctx, files)
        spark = self._glue.spark_session
        if not files:
            return DynamicFrame(
                spark.createDataFrame([], "_empty string"), self._glue, transformation_ctx
            )
        reader = spark.read.options(**{k: str(v) for k, v in (format_options or {}).items()})
        frame = reader.format(format or "json").load([f"file://{f}" for f in files])
        return DynamicFrame(frame, self._glue, transformation_ctx)

    def from_catalog(
        self,
        database: str | None = None,
        table_name: str | None = None,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        """The catalog table through the reader given as the context's ``catalog`` option."""
        catalog = self._glue._shared.catalog
        if catalog is None or database is None or table_name is None:
            raise GlueArgumentError("from_catalog needs a database, a table and a catalog reader")
        return DynamicFrame(catalog(database, table_name), self._glue, transformation_ctx)


def _exclusions(options: Mapping[str, Any]) -> list[str]:
    value = options.get("exclusions") or []
    return list(json.loads(value) if isinstance(value, str) else value)


def _files(paths: Iterable[str], recurse: bool, exclusions: Sequence[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        root = Path(path.removeprefix("file://"))
        if root.is_file():
            found.append(str(root))
            continue
        candidates = root.rglob("*") if recurse else root.glob("*")
        found += [
            str(p)
            for p in candidates
            if p.is_file()
            and not any(fnmatch.fnmatch(str(p.relative_to(root)), x) for x in exclusions)
        ]
    return sorted(found)


class _Bookmarks:
    """Files each transformation context returned, committed to ``<TempDir>/bookmarks``."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled
        self.seen: dict[str, dict[str, float]] = (
            json.loads(path.read_text()) if path.is_file() else {}
        )
        self.pending: dict[str, dict[str, float]] = {}

    def unseen(self, context: str, files: list[str]) -> list[str]:
        current = {f: os.path.getmtime(f) for f in files}
        self.pending.setdefault(context, {}).update(current)
        if not self.enabled:
            return files
        known = self.seen.get(context, {})
        return [f for f, mtime in current.items() if known.get(f) != mtime]

    def commit(self) -> None:
        for context, files in self.pending.items():
            self.seen.setdefault(context, {}).update(files)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.seen, sort_keys=True))
        self.pending = {}


class Job:
    """A job run: ``init`` reads the bookmarks (when enabled), ``commit`` stores them."""

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue = glue_context
        self._initialized = False

    def init(self, job_name: str, args: Mapping[str, Any] | None = None) -> None:
        args = dict(args or {})
        option = args.get("job_bookmark_option") or BOOKMARK_OPTIONS[2]
        temp = args.get("TempDir")
        if option != BOOKMARK_OPTIONS[2] and not temp:
            raise GlueArgumentError("local job bookmarks need --TempDir")
        if temp:
            path = Path(str(temp).removeprefix("file://")) / "bookmarks" / f"{job_name}.json"
            self._glue._shared.bookmarks = _Bookmarks(path, option == BOOKMARK_OPTIONS[0])
        self._initialized = True

    def isInitialized(self) -> bool:  # noqa: N802
        return self._initialized

    def commit(self) -> None:
        bookmarks = self._glue._shared.bookmarks
        if bookmarks is not None and bookmarks.enabled:
            bookmarks.commit()
