"""Running the shared SQL on Spark: Arrow tables in as temp views, results out as Arrow.

The conversions use Spark 4's native Arrow API (``createDataFrame(pa.Table)``,
``DataFrame.toArrow``) where it exists, and otherwise Spark 3.5's Arrow-backed pandas path,
which is what AWS Glue 5 runs. Both give the same Arrow types: the Spark schema decides.
On the pandas path a nullable integer column travels as float64, exact up to 2**53 (USD
amounts stay far below).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from etl_service.errors import EngineError
from etl_service.src.adapters.spark_session import describe, spark_failures
from etl_service.src.transforms.sql_runner import load_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def has_native_arrow() -> bool:
    """Whether this PySpark converts Arrow tables directly (4.0 and later)."""
    from pyspark.sql import DataFrame

    return hasattr(DataFrame, "toArrow")


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Turn a failing Spark call into EngineError naming ``what`` failed."""
    try:
        yield
    except spark_failures() as exc:
        raise EngineError(f"Spark failed in {what}: {describe(exc)}") from exc


def _arrow_type(spark_type: Any) -> pa.DataType:
    from pyspark.sql import types as st

    simple: dict[type[Any], pa.DataType] = {
        st.StringType: pa.string(),
        st.CharType: pa.string(),
        st.VarcharType: pa.string(),
        st.LongType: pa.int64(),
        st.IntegerType: pa.int32(),
        st.ShortType: pa.int16(),
        st.ByteType: pa.int8(),
        st.DoubleType: pa.float64(),
        st.FloatType: pa.float32(),
        st.BooleanType: pa.bool_(),
        st.DateType: pa.date32(),
        st.TimestampType: pa.timestamp("us", tz="UTC"),  # the session time zone is UTC
        st.TimestampNTZType: pa.timestamp("us"),
        st.BinaryType: pa.binary(),
        st.NullType: pa.null(),
    }
    if isinstance(spark_type, st.DecimalType):
        return pa.decimal128(spark_type.precision, spark_type.scale)
    for cls, arrow in simple.items():
        if type(spark_type) is cls:
            return arrow
    raise EngineError(f"no Arrow type for the Spark type {spark_type.simpleString()}")


def arrow_schema_of(schema: Any) -> pa.Schema:
    """The Arrow schema of a Spark ``StructType``, nullability included."""
    return pa.schema(
        [pa.field(f.name, _arrow_type(f.dataType), nullable=f.nullable) for f in schema.fields]
    )


def _spark_type(arrow_type: pa.DataType) -> Any:
    from pyspark.sql import types as st

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return st.StringType()
    if pa.types.is_decimal(arrow_type):
        return st.DecimalType(arrow_type.precision, arrow_type.scale)
    if pa.types.is_timestamp(arrow_type):
        return st.TimestampType() if arrow_type.tz else st.TimestampNTZType()
    simple = {
        pa.int64(): st.LongType(),
        pa.int32(): st.IntegerType(),
        pa.int16(): st.ShortType(),
        pa.int8(): st.ByteType(),
        pa.float64(): st.DoubleType(),
        pa.float32(): st.FloatType(),
        pa.bool_(): st.BooleanType(),
        pa.date32(): st.DateType(),
        pa.binary(): st.BinaryType(),
        pa.null(): st.NullType(),
    }
    if arrow_type in simple:
        return simple[arrow_type]
    raise EngineError(f"no Spark type for the Arrow type {arrow_type}")


def spark_schema_of(schema: pa.Schema) -> Any:
    """The Spark ``StructType`` of an Arrow schema, nullability included."""
    from pyspark.sql import types as st

    return st.StructType(
        [st.StructField(f.name, _spark_type(f.type), nullable=f.nullable) for f in schema]
    )


def to_spark(spark: SparkSession, table: pa.Table, native: bool | None = None) -> DataFrame:
    """A DataFrame of ``table`` (``native`` forces or refuses the Spark 4 Arrow path)."""
    native = has_native_arrow() if native is None else native
    with spark_errors("reading an Arrow table"):
        if native:
            return spark.createDataFrame(table)
        frame = table.to_pandas(date_as_object=True)
        return spark.createDataFrame(frame, schema=spark_schema_of(table.schema))


def to_arrow(frame: DataFrame, native: bool | None = None) -> pa.Table:
    """Collect ``frame`` on the driver as an Arrow table typed by its Spark schema."""
    native = has_native_arrow() if native is None else native
    schema = arrow_schema_of(frame.schema)
    with spark_errors("collecting a result"):
        if native:
            return frame.toArrow().cast(schema)
        return pa.Table.from_pandas(frame.toPandas(), schema=schema, preserve_index=False)


class SparkSqlEngine:
    """Runs the shared SQL on Spark over temp views (a CurateEngine and a quality SqlEngine)."""

    name = "spark"

    def __init__(self, spark: SparkSession, native_arrow: bool | None = None) -> None:
        self.spark = spark
        self.native = has_native_arrow() if native_arrow is None else native_arrow
        self._tables: dict[str, pa.Table] = {}
        self._frames: dict[str, DataFrame] = {}

    def register(self, name: str, table: pa.Table) -> None:
        frame = to_spark(self.spark, table, self.native)
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame
        self._tables[name] = table

    def query(self, sql: str) -> pa.Table:
        with spark_errors("a query"):
            frame = self.spark.sql(sql)
        return to_arrow(frame, self.native)

    def materialize(self, transformation: str, as_name: str) -> None:
        """Run the shared transformation and register its result as ``as_name``.

        The result is computed now and kept by the executors (a local checkpoint), so later
        steps read it instead of recomputing it. ``cache()`` would do the same lazily, but
        Spark 3.5 then fails to resolve columns of the cached plan in the next query.
        """
        with spark_errors(transformation):
            frame = self.spark.sql(load_sql(transformation)).localCheckpoint()
            frame.createOrReplaceTempView(as_name)
        self._frames[as_name] = frame
        self._tables.pop(as_name, None)

    def fetch(self, name: str) -> pa.Table:
        if name not in self._tables:
            self._tables[name] = to_arrow(self._frames[name], self.native)
        return self._tables[name]

    def close(self) -> None:
        """Drop the views; Spark frees the checkpointed results once nothing refers to them."""
        for name in self._frames:
            self.spark.catalog.dropTempView(name)
        self._frames.clear()
        self._tables.clear()
