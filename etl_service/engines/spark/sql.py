"""Running the shared SQL on Spark, and moving tables between Arrow and Spark at the edges.

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

from etl_service.engines.spark.session import describe, spark_failures
from etl_service.errors import EngineError
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


class SparkSqlSession:
    """Runs the shared SQL on Spark over temp views; every result stays a DataFrame."""

    name = "spark"

    def __init__(self, spark: SparkSession, native_arrow: bool | None = None) -> None:
        self.spark = spark
        self.native = has_native_arrow() if native_arrow is None else native_arrow
        self._frames: dict[str, DataFrame] = {}

    def register(self, name: str, table: pa.Table | DataFrame) -> None:
        frame = to_spark(self.spark, table, self.native) if isinstance(table, pa.Table) else table
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame

    def materialize(self, transformation: str, as_name: str) -> None:
        self.register(as_name, self._computed(load_sql(transformation), transformation))

    def frame(self, name: str) -> DataFrame:
        return self._frames[name]

    def select(self, sql: str) -> DataFrame:
        """The result computed now and kept by the executors (a local checkpoint).

        Later steps read it instead of recomputing its plan. ``cache()`` would do the same
        lazily, but Spark 3.5 then fails to resolve columns of the cached plan in the next
        query.
        """
        return self._computed(sql, "a query")

    def _computed(self, sql: str, what: str) -> DataFrame:
        with spark_errors(what):
            return self.spark.sql(sql).localCheckpoint()

    def query(self, sql: str) -> pa.Table:
        with spark_errors("a query"):
            frame = self.spark.sql(sql)
        return to_arrow(frame, self.native)

    def close(self) -> None:
        """Drop the views; the frames handed out keep their checkpointed data."""
        for name in self._frames:
            self.spark.catalog.dropTempView(name)
        self._frames.clear()
