"""Quarterly financials from SEC Financial Statement Data Sets (sub.txt/num.txt), on Spark.

Spark reads the tab-separated files (all columns as text, so a bad value is reported
rather than silently nulled), keeps the facts the companyfacts path reads (its concepts,
us-gaap taxonomy, no segments, no co-registrant, durations only, 10-Q/10-K and amendments),
types them, and runs the companyfacts extraction per company on the executors
(``fsds_company``). The result is ``arrow_schema(QUARTERLY_REPORTS)``.

Mapping from FSDS to companyfacts fact records:
- ``accn`` = ``adsh``; ``form``, ``filed``, ``fy``, ``fp`` from sub.txt; ``end`` = ``ddate``.
- ``start`` is derived: FSDS gives the end (``ddate``) and the length in quarters
  (``qtrs``), both rounded to whole months, so a period is taken to start the day after
  the month-end ``3 * qtrs`` months before ``ddate`` (2009-06-30, 1 quarter: 2009-04-01).
  The derived periods are whole months: a quarter is 90-92 days and a fiscal year 365-366,
  inside the companyfacts path's quarter and year lengths, and year-to-date spans of one
  filing share their start, so YTD differences work as for companyfacts. The price is that
  FSDS periods differ from the filings' exact dates: Apple's quarter ending 2009-06-27
  becomes 2009-04-01..2009-06-30, and a 12- or 16-week quarter becomes three months.
- Per-share units: FSDS writes EPS in the currency (``USD``), companyfacts in
  ``USD/shares``; a currency code on a per-share concept gets ``/shares``.
- The fiscal-year end is sub.txt's ``fye`` (MMDD, rounded to a month end like ``ddate``) of
  the company's latest submission, so labels never come from ``fy``/``fp``.

Across several quarters, all facts of a CIK go to one extraction, where the latest filed
value of each period wins, exactly as for companyfacts. The executors import
``etl_service`` to run the extraction, so it must be installed there (on a cluster: in the
image, or shipped with ``--py-files``; on Glue: ``--additional-python-modules``).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql.types import StringType, StructField, StructType

from etl_service.engines.spark.session import spark_failures
from etl_service.errors import EngineError, InputError
from etl_service.src.adapters.sec.companyfacts import COUNTED_FORMS
from etl_service.src.adapters.sec.fsds_company import (
    FACT_COLUMNS,
    META_COLUMNS,
    OUTPUT_SCHEMA,
    company_rows,
)
from etl_service.src.adapters.sec.fsds_files import (
    NUM_COLUMNS,
    SUB_COLUMNS,
    QuarterFiles,
    locate_quarter,
)
from etl_service.src.adapters.sec.quarterly import EPS_BASIC_CONCEPTS, EPS_DILUTED_CONCEPTS, UNITS
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import QUARTERLY_REPORTS, ColumnType, arrow_schema

logger = logging.getLogger(__name__)

SEGMENTS = "segments"
"""Absent from the layout SEC used before its 2024 re-issue, whose num.txt had no
dimensional facts; treated as empty when missing."""

CONCEPTS: tuple[str, ...] = tuple(UNITS)
PER_SHARE_CONCEPTS: tuple[str, ...] = tuple(
    dict.fromkeys(EPS_BASIC_CONCEPTS + EPS_DILUTED_CONCEPTS)
)
TAXONOMY_VERSION_PREFIX = "us-gaap/"
_DATE = r"^[0-9]{8}$"


def read_fsds(
    spark: SparkSession,
    paths: Sequence[Path],
    *,
    staging_dir: Path | None = None,
    ciks: Collection[str] | None = None,
) -> Extracted:
    """Quarterly financials of every company in the given FSDS quarters.

    Args:
        spark: the session to run on; it is not stopped here.
        paths: quarter folders (sub.txt and num.txt, or .txt.gz) or SEC quarter zips.
        staging_dir: where zips are extracted (a temporary folder inside it, removed
            afterwards); on a multi-node cluster it must be readable by every executor.
        ciks: only these companies (10-digit CIKs): their submissions and the facts of
            those submissions; None reads every company.

    Returns:
        Rows in ``arrow_schema(QUARTERLY_REPORTS)`` sorted by CIK and period end, the
        rejected facts and companies with reasons, and the warnings.
    """
    if not paths:
        raise InputError("no quarter given", field="paths")
    with tempfile.TemporaryDirectory(prefix="fsds-", dir=staging_dir) as staging:
        quarters = [locate_quarter(Path(p), Path(staging), SUB_COLUMNS, NUM_COLUMNS) for p in paths]
        try:
            return _extract(spark, quarters, ciks)
        except spark_failures() as exc:
            given = ", ".join(str(p) for p in paths)
            raise EngineError(f"Spark failed reading {given}: {_cause(exc)}") from exc


def _cause(exc: BaseException) -> str:
    """The innermost error message, without the JVM or Python stack trace."""
    error = getattr(exc, "java_exception", None)  # a JVM error PySpark did not convert
    if error is not None:
        chain: list[str] = []
        while error is not None:
            chain.append(str(error.toString()).splitlines()[0].strip())
            error = error.getCause()
        # the outer errors only say that a job failed; the innermost two say which file and why
        return "; caused by ".join(chain[-2:])
    text = str(exc).split("JVM stacktrace:")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in reversed(lines) if not line.startswith("at ")), repr(exc))


def _extract(
    spark: SparkSession, quarters: Sequence[QuarterFiles], ciks: Collection[str] | None
) -> Extracted:
    sub = _union([_sub(spark, q) for q in quarters])
    num = _union([_num(spark, q) for q in quarters])
    if ciks is not None:
        sub = sub.where(sf.col("cik_n").isin(sorted({int(c) for c in ciks})))
        num = num.join(sub.select("adsh"), on="adsh", how="left_semi")
    classified = _classify(num, sub).persist()
    try:
        facts = classified.where(sf.col("issue").isNull())
        problems = classified.where(sf.col("issue").isNotNull()).select(
            sf.lit("rejected").alias("_kind"),
            sf.concat_ws("|", "adsh", "tag", "ddate", "qtrs").alias("_key"),
            sf.col("issue").alias("_message"),
            sf.col("num_file").alias("_source"),
            sf.to_json(
                sf.struct("adsh", "tag", "version", "ddate", "qtrs", "uom", "value", "quarter")
            ).alias("_record"),
        )
        meta = problems.unionByName(_without_facts(sub, facts)).toPandas()
        rows = (
            _fact_records(facts)
            .groupBy("cik")
            .applyInPandas(company_rows, schema=OUTPUT_SCHEMA)
            .select(*[_transport(c.name, c.type) for c in QUARTERLY_REPORTS.columns], *META_COLUMNS)
            .toPandas()
        )
    finally:
        classified.unpersist()
    extracted = _assemble(rows, meta)
    logger.info(
        "FSDS %s: %d quarterly rows, %d rejected, %d warnings",
        "+".join(q.name for q in quarters),
        extracted.table.num_rows,
        len(extracted.rejected),
        len(extracted.warnings),
    )
    return extracted


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _read(spark: SparkSession, path: Path, columns: Sequence[str]) -> DataFrame:
    """A tab-separated FSDS file, every column as text, in its own header's order."""
    schema = StructType([StructField(c, StringType()) for c in columns])
    return spark.read.csv(
        str(path), schema=schema, sep="\t", header=True, quote="", encoding="UTF-8"
    )


def _sub(spark: SparkSession, quarter: QuarterFiles) -> DataFrame:
    frame = _read(spark, quarter.sub, quarter.sub_columns)
    return frame.select(
        *SUB_COLUMNS,
        sf.expr("try_cast(cik AS BIGINT)").alias("cik_n"),
        _date("filed").alias("filed_d"),
        sf.lit(quarter.sub_source).alias("sub_file"),
    )


def _num(spark: SparkSession, quarter: QuarterFiles) -> DataFrame:
    frame = _read(spark, quarter.num, quarter.num_columns)
    segments = sf.col(SEGMENTS) if SEGMENTS in quarter.num_columns else sf.lit(None)
    return (
        frame.where(
            sf.col("tag").isin(list(CONCEPTS))
            & sf.col("version").startswith(TAXONOMY_VERSION_PREFIX)
            & segments.isNull()
            & sf.col("coreg").isNull()
        )
        .select(
            *NUM_COLUMNS,
            _date("ddate").alias("end_d"),
            sf.expr("try_cast(qtrs AS INT)").alias("qtrs_n"),
            sf.expr("try_cast(value AS DOUBLE)").alias("val"),
            sf.lit(quarter.name).alias("quarter"),
            sf.lit(quarter.num_source).alias("num_file"),
        )
        # instants (qtrs 0) are balances, never flows; companyfacts skips them too
        .where(sf.col("qtrs_n").isNull() | (sf.col("qtrs_n") != 0))
    )


def _date(column: str) -> Column:
    """A ``yyyymmdd`` text as a date, null when it is not one (also under ANSI mode)."""
    return sf.when(
        sf.col(column).rlike(_DATE),
        sf.expr(f"CAST(try_to_timestamp({column}, 'yyyyMMdd') AS DATE)"),
    )


def _bad(file: str, message: str, column: str) -> Column:
    """``<file>: <message> (field '<column>', value '<value>')``, as InputError words it."""
    return sf.format_string(f"%s: {message} (field '{column}', value '%s')", file, column)


def _classify(num: DataFrame, sub: DataFrame) -> DataFrame:
    """Relevant facts joined to their submission, with the reason a fact is unusable."""
    joined = num.join(sub, on="adsh", how="left").where(
        sf.col("form").isNull() | sf.col("form").isin(sorted(COUNTED_FORMS))
    )
    issue = (
        sf.when(
            sf.col("sub_file").isNull(),
            sf.format_string("%s: submission %s is not in sub.txt", "num_file", "adsh"),
        )
        .when(
            sf.col("cik_n").isNull() | (sf.col("cik_n") <= 0) | (sf.col("cik_n") > 9_999_999_999),
            _bad("sub_file", "not a CIK", "cik"),
        )
        .when(sf.col("filed_d").isNull(), _bad("sub_file", "not a yyyymmdd date", "filed"))
        .when(sf.col("end_d").isNull(), _bad("num_file", "not a yyyymmdd date", "ddate"))
        .when(
            sf.col("qtrs_n").isNull() | (sf.col("qtrs_n") < 0),
            _bad("num_file", "not a number of quarters", "qtrs"),
        )
        .when(
            sf.col("value").isNull(),
            sf.format_string("%s: no value, nil in the filing (field 'value')", "num_file"),
        )
        .when(
            sf.col("val").isNull() | sf.isnan("val") | (sf.abs("val") == float("inf")),
            _bad("num_file", "not a finite number", "value"),
        )
    )
    return joined.withColumn("issue", issue)


def _fact_records(facts: DataFrame) -> DataFrame:
    """Companyfacts-shaped fact records (``FACT_COLUMNS``), dates as ISO text."""
    months = sf.col("qtrs_n") * -3
    start = sf.date_add(
        sf.when(
            sf.col("end_d") == sf.last_day("end_d"), sf.last_day(sf.add_months("end_d", months))
        ).otherwise(sf.add_months("end_d", months)),
        1,
    )
    unit = sf.when(
        sf.col("tag").isin(list(PER_SHARE_CONCEPTS)) & sf.col("uom").rlike("^[A-Z]{3}$"),
        sf.concat(sf.col("uom"), sf.lit("/shares")),
    ).otherwise(sf.col("uom"))
    return facts.select(
        sf.lpad(sf.col("cik_n").cast("string"), 10, "0").alias("cik"),
        sf.col("tag").alias("concept"),
        unit.alias("unit"),
        start.cast("string").alias("start"),
        sf.col("end_d").cast("string").alias("end"),
        "val",
        sf.col("adsh").alias("accn"),
        "fy",
        "fp",
        "form",
        sf.col("filed_d").cast("string").alias("filed"),
        sf.when(sf.col("fye").rlike("^[0-9]{4}$"), sf.col("fye")).alias("fye"),
        "quarter",
    ).select(*FACT_COLUMNS)


def _without_facts(sub: DataFrame, facts: DataFrame) -> DataFrame:
    """A warning per counted submission whose company has no usable fact at all."""
    ciks = facts.select("cik_n").distinct()
    return (
        sub.where(sf.col("form").isin(sorted(COUNTED_FORMS)) & sf.col("cik_n").isNotNull())
        .join(ciks, on="cik_n", how="left_anti")
        .select(
            sf.lit("warning").alias("_kind"),
            sf.col("adsh").alias("_key"),
            sf.format_string(
                "%s: CIK %s (%s) filed %s %s without any fact of %s; no rows",
                "sub_file",
                sf.lpad(sf.col("cik_n").cast("string"), 10, "0"),
                "name",
                "form",
                "adsh",
                sf.lit(", ".join(CONCEPTS)),
            ).alias("_message"),
            sf.col("sub_file").alias("_source"),
            sf.to_json(sf.struct("adsh", "cik", "name", "form", "filed")).alias("_record"),
        )
    )


def _transport(name: str, type_: ColumnType) -> Column:
    """int64 travels as text through pandas, which would turn a nullable one into float."""
    return sf.col(name).cast("string").alias(name) if type_ is ColumnType.INT64 else sf.col(name)


def _assemble(rows: pd.DataFrame, meta: pd.DataFrame) -> Extracted:
    """The canonical table of the ``row`` rows; rejections and warnings from all others."""
    schema = arrow_schema(QUARTERLY_REPORTS)
    kept = rows[rows["_kind"] == "row"]
    table = pa.Table.from_arrays(
        [pa.array(kept[f.name], from_pandas=True).cast(f.type) for f in schema], schema=schema
    ).sort_by([("cik", "ascending"), ("period_end", "ascending")])
    notes = [
        {str(k): v for k, v in note.items()}
        for frame in (meta, rows[rows["_kind"] != "row"][list(META_COLUMNS)])
        for note in frame.to_dict("records")
    ]
    notes.sort(key=lambda n: (str(n["_source"]), str(n["_key"]), str(n["_message"])))
    rejected = [
        Rejected(
            table=QUARTERLY_REPORTS.name,
            record_key=str(n["_key"]),
            reason=str(n["_message"]),
            source=str(n["_source"]),
            record=json.loads(str(n["_record"])),
        )
        for n in notes
        if n["_kind"] == "rejected"
    ]
    warnings = [str(n["_message"]) for n in notes if n["_kind"] == "warning"]
    return Extracted(table, rejected, warnings)
