"""Benchmark profiles: the full sizes of the issue, and a tiny one for the smoke test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """How big each figure's workload is and how often it is repeated."""

    name: str
    runs: int
    b1_rows: int
    b1_legacy_rows: int
    b1_dlt_runs: int
    b2_scale: float
    b2_days: int
    b3_scales: tuple[float, ...]
    b3_spark_scales: tuple[float, ...]
    b3_days: int
    b5_megabytes: float
    b6_runs: int
    b7_companies: int
    b8_megabytes: float
    b9_companies: int
    b10_rows: int
    subprocess: bool
    """Run each pipeline scale in its own process (clean memory); False runs in this one."""


FULL = Profile(
    name="full",
    runs=3,
    b1_rows=1_000_000,
    b1_legacy_rows=5_000,
    b1_dlt_runs=1,
    b2_scale=1.0,
    b2_days=10_000,
    b3_scales=(1.0, 4.0, 16.0),
    b3_spark_scales=(0.25, 0.5, 1.0, 4.0, 16.0),
    b3_days=10_000,
    b5_megabytes=150.0,
    b6_runs=3,
    b7_companies=150,
    b8_megabytes=400.0,
    b9_companies=500,
    b10_rows=500_000,
    subprocess=True,
)

SMOKE = Profile(
    name="smoke",
    runs=1,
    b1_rows=3_000,
    b1_legacy_rows=50,
    b1_dlt_runs=1,
    b2_scale=0.02,
    b2_days=600,
    b3_scales=(0.02, 0.04),
    b3_spark_scales=(0.02,),
    b3_days=400,
    b5_megabytes=1.0,
    b6_runs=1,
    b7_companies=6,
    b8_megabytes=2.0,
    b9_companies=20,
    b10_rows=2_000,
    subprocess=False,
)

SPARK_B3 = Profile(
    name="spark-b3",
    runs=3,
    b1_rows=FULL.b1_rows,
    b1_legacy_rows=FULL.b1_legacy_rows,
    b1_dlt_runs=1,
    b2_scale=FULL.b2_scale,
    b2_days=FULL.b2_days,
    b3_scales=(1.0,),
    b3_spark_scales=(0.25, 0.5, 1.0),
    b3_days=FULL.b3_days,
    b5_megabytes=FULL.b5_megabytes,
    b6_runs=3,
    b7_companies=FULL.b7_companies,
    b8_megabytes=FULL.b8_megabytes,
    b9_companies=FULL.b9_companies,
    b10_rows=FULL.b10_rows,
    subprocess=True,
)
"""B3-spark alone (``--only B3``): Spark at the full profile's first scales against the
standard engine at scale 1 in the same run, for when the full run's budget leaves Spark none."""

PROFILES = {p.name: p for p in (FULL, SMOKE, SPARK_B3)}
