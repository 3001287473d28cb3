"""The one configuration object, read once at an entry point and passed down."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


class SourceMode(StrEnum):
    """Where sources come from."""

    AUTO = "auto"  # live, falling back to the bundled snapshot when the network fails
    LIVE = "live"
    SNAPSHOT = "snapshot"


class HttpSettings(BaseModel):
    """HTTP client behaviour shared by every remote source."""

    timeout_s: float = Field(default=20.0, gt=0)
    """Connect and per-read timeout."""
    deadline_s: float = Field(default=120.0, gt=0)
    """Total time one request (its body included) may take, whatever the server's pace."""
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    cache_dir: Path = DEFAULT_DATA_DIR / "cache" / "http"


class SecSettings(BaseModel):
    """SEC EDGAR access."""

    base_url: str = "https://data.sec.gov"
    cik_lookup_url: str = "https://www.sec.gov/Archives/edgar/cik-lookup-data.txt"
    """Every name each EDGAR filer has used, with its CIK (resolves former members by name)."""
    max_requests_per_s: float = Field(default=10.0, gt=0, le=10)
    """SEC's fair-access limit is 10 requests per second."""
    max_concurrency: int = Field(default=8, ge=1, le=64)
    """Requests in flight at once; the rate limit, not this, bounds a run (8 covers 0.8 s
    of latency at 10 requests/s)."""
    bulk_path: Path | None = None  # companyfacts.zip or a folder of CIK##########.json
    fsds_paths: tuple[Path, ...] = ()
    """Financial Statement Data Sets quarters (folders or SEC zips) for the sec-fsds source."""
    daily_index_url: str = "https://www.sec.gov/Archives/edgar/daily-index"
    """EDGAR's daily index: which companies filed what each day (incremental runs)."""
    incremental_max_days: int = Field(default=31, ge=0)
    """An incremental run reads at most this many days of daily index; when the oldest
    cursor is older, every company is fetched again."""


class SnowflakeSettings(BaseModel):
    """Snowflake connection and export (the endpoint may be a local fakesnow server in tests).

    A run exports when ``snowflake`` is one of ``ETL_SINKS``; ``etl-service export snowflake``
    exports on its own. ``password`` or ``private_key_file`` authenticates.
    """

    model_config = ConfigDict(populate_by_name=True)

    account: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    private_key_file: Path | None = None
    """A PEM private key for key-pair authentication, instead of ``password``."""
    private_key_file_pwd: SecretStr | None = None
    """The passphrase of an encrypted ``private_key_file``."""
    warehouse: str | None = None
    database: str = "ETL"
    schema_name: str = Field(default="PUBLIC", alias="schema")
    role: str | None = None
    host: str | None = None
    """A non-default endpoint (default: ``<account>.snowflakecomputing.com``)."""
    port: int | None = None
    protocol: Literal["https", "http"] = "https"
    login_timeout_s: int = Field(default=30, ge=1)
    """How long connecting may take before the export fails, having changed nothing."""
    network_timeout_s: int | None = Field(default=None, ge=1)
    """How long any later request may take; None waits for long COPY and MERGE statements."""
    file_mb: float = Field(default=256.0, gt=0)
    """Arrow size of the rows in each staged Parquet file (about 100 MB compressed or less):
    COPY INTO loads files in parallel, one per warehouse thread."""
    put_parallel: int = Field(default=4, ge=1, le=99)
    """Threads uploading the Parquet files of one table (PUT ... PARALLEL)."""

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> SnowflakeSettings:
        if self.password is not None and self.private_key_file is not None:
            raise ValueError("set ETL_SNOWFLAKE__PASSWORD or __PRIVATE_KEY_FILE, not both")
        return self


class SparkSettings(BaseModel):
    """Spark session settings."""

    master: str = "local[*]"
    jdbc_jar: Path = Path("/usr/share/java/postgresql.jar")
    shuffle_partitions: int | None = Field(default=None, ge=1)  # None: sized to the data
    ui_enabled: bool = False


class QualitySettings(BaseModel):
    """Data-quality thresholds."""

    constituents_min: int = 495
    constituents_max: int = 510
    margin_min: float = -10.0
    margin_max: float = 1.0
    # Outside this band a P/E almost always means price and EPS are on different split bases.
    pe_min: float = 3.0
    pe_max: float = 1000.0
    max_shrink: float = Field(default=0.5, ge=0, le=1)
    """A load that would shrink a table by more than this share of its rows is refused."""


class WikipediaHistorySettings(BaseModel):
    """Past revisions of the Wikipedia page, read through the MediaWiki action API."""

    enabled: bool = True
    start: date = date(2007, 1, 1)
    """The first month whose last revision is read."""
    months_step: int = Field(default=1, ge=1)
    """Read every n-th month from ``start`` (1: every month)."""
    api_url: str = "https://en.wikipedia.org/w/api.php"


class CatalogSettings(BaseModel):
    """The Iceberg catalog that holds the lake's tables."""

    type: str = "sql"
    """``sql`` (embedded; SQLite at ``<lake>/catalog.db`` by default) or ``glue``."""
    namespace: str = "sp500"
    """The namespace (Glue database) of the curated tables; ``<namespace>_processed`` holds
    the processed zone."""
    uri: SecretStr | None = None
    """The SQL catalog's database URL; needed when the lake is not a local folder."""
    snapshot_retention_days: float = Field(default=30.0, ge=0)
    """Snapshots older than this are expired after each commit; the current one is kept."""


class BucketSettings(BaseModel):
    """How ``etl-service lake setup`` configures the S3 bucket of an ``s3://`` lake."""

    kms_key_id: str | None = None
    """Default encryption with this KMS key; unset: SSE-S3."""
    raw_infrequent_access_days: int = Field(default=30, ge=30)
    raw_archive_days: int = Field(default=90, ge=1)
    noncurrent_version_expiry_days: int = Field(default=30, ge=1)
    replication_bucket_arn: str | None = None
    """Replicate the lake to this bucket (needs ``replication_role_arn``); unset: none."""
    replication_role_arn: str | None = None


class LakeFormationSettings(BaseModel):
    """Lake Formation governance of an ``s3://`` lake in the Glue Data Catalog."""

    config: Path | None = None
    """The governance config (TOML); None: the bundled
    ``etl_service/aws/lake_formation/governance.toml``."""
    governance: Literal["apply", "check", "skip"] = "apply"
    """What the lake_formation pipeline does with it after the lake commit: apply it, check
    it (plan only, each planned change a warning of the run), or skip it."""


class GlueSettings(BaseModel):
    """The AWS Glue job: what ``etl-service glue deploy`` creates and ``glue start`` runs."""

    job_name: str = "sp500-etl-job"
    role_arn: str | None = None
    """The job's IAM role; unset: ``arn:aws:iam::<account>:role/sp500-glue``."""
    worker_type: str = "G.1X"
    number_of_workers: int = Field(default=2, ge=2)
    timeout_minutes: int = Field(default=120, ge=1)
    connection_name: str | None = None
    """The Glue connection (JDBC) of the RDS/PostgreSQL database; unset: no database load
    through a connection (the job then uses ``ETL_DATABASE_URL``)."""
    schedule: str | None = None
    """A schedule trigger's cron, e.g. ``cron(0 6 * * ? *)``; unset: no trigger."""
    artifacts_prefix: str = "glue"
    """Where the script and the wheel go, under the lake's prefix in its bucket."""
    source: SourceMode = SourceMode.AUTO
    """The job's source mode (its ``--source_mode`` default argument)."""
    poll_s: float = Field(default=15.0, gt=0)
    """How often ``etl-service glue start --wait`` asks for the run's state."""


class DatabaseSettings(BaseModel):
    """How the run connects to ``ETL_DATABASE_URL`` (the URL itself stays a top-level secret)."""

    iam_auth: bool = False
    """PostgreSQL on RDS: log in with an IAM auth token, made for each new connection, over
    TLS (``sslmode=require``, or the URL's ``verify-full``); the URL names the user and no
    password."""


class EcsSettings(BaseModel):
    """The Fargate task ``etl-service ecs run-task`` starts (``terraform output
    run_task_environment`` prints these for the stack in infra/terraform)."""

    cluster: str = "sp500-etl"
    task_definition: str = "sp500-etl"
    """A family (its newest revision), ``family:revision`` or an ARN."""
    container: str = "etl-service"
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool = False
    poll_s: float = Field(default=6.0, gt=0)
    """How often ``--wait`` asks ECS whether the task stopped."""


class Settings(BaseSettings):
    """All settings of etl_service; environment variables use the ``ETL_`` prefix."""

    model_config = SettingsConfigDict(
        env_prefix="ETL_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = DEFAULT_DATA_DIR
    """Home of every local store; the database, lake and HTTP cache default to it."""
    database_url: SecretStr = SecretStr(f"sqlite:///{DEFAULT_DATA_DIR / 'etl.db'}")
    lake_uri: str = str(DEFAULT_DATA_DIR / "lake")
    source: SourceMode = SourceMode.AUTO
    history_start: date = date(1996, 1, 2)
    """How far back index membership is rebuilt."""
    engine: str = "standard"
    """The compute engine: a name in ``etl_service.engines.AVAILABLE_ENGINES``."""
    sinks: tuple[str, ...] = ("lake", "database")
    """The run's sinks in staging order (``etl_service.sinks.AVAILABLE_SINKS``)."""
    run_lock_timeout_s: float = Field(default=0.0, ge=0)
    """How long a run waits for another run on the same database to finish; 0 fails at once."""
    allow_shrink: bool = False
    """Load even when a table would shrink by more than ``quality.max_shrink`` (recorded)."""
    full_refresh: bool = False
    """Fetch every company's financials again, ignoring the filing cursors."""
    tickers: tuple[str, ...] = ()
    """Fetch financials and prices of these companies only (canonical tickers, e.g. BRK.B)."""
    financials_source: str | None = None
    """The registered source that answers for financials, instead of the chain (e.g.
    ``sec-bulk`` with ``sec.bulk_path``)."""
    max_input_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    """The largest local input file read (a page, a companyfacts file, a price file)."""
    fault_point: str | None = None
    """Test only: the named point at which a run kills itself (``etl_service.faults``)."""

    wikipedia_url: str = "https://en.wikipedia.org/wiki/List_of_S%26P_500_companies"
    user_agent: str = "etl-service/0.1 (https://github.com/etl-service/etl-service)"
    sec_user_agent: str | None = None
    fmp_api_key: SecretStr | None = None
    fmp_base_url: str = "https://financialmodelingprep.com"
    prices_url_template: str = "https://stooq.com/q/d/l/?s={symbol}&i=d"
    """Daily price CSV per ticker; ``{symbol}`` is the Stooq spelling (``brk-b.us``)."""
    prices_since_param: str | None = "&d1={since:%Y%m%d}"
    """Appended to the price URL to ask only for the days from ``{since}`` on (Stooq's
    ``d1``), so a run appends new days to the stored closes; None: whole files each run."""

    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_profile: str | None = None
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None

    catalog: CatalogSettings = CatalogSettings()
    glue: GlueSettings = GlueSettings()
    database: DatabaseSettings = DatabaseSettings()
    ecs: EcsSettings = EcsSettings()
    bucket: BucketSettings = BucketSettings()
    lake_formation: LakeFormationSettings = LakeFormationSettings()
    http: HttpSettings = HttpSettings()
    sec: SecSettings = SecSettings()
    snowflake: SnowflakeSettings = SnowflakeSettings()
    spark: SparkSettings = SparkSettings()
    quality: QualitySettings = QualitySettings()
    wikipedia_history: WikipediaHistorySettings = WikipediaHistorySettings()

    @field_validator("lake_uri", "wikipedia_url", "prices_url_template", "user_agent")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("history_start")
    @classmethod
    def _not_in_the_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError(f"{value} is in the future")
        return value

    @field_validator("database_url")
    @classmethod
    def _a_database_url(cls, value: SecretStr) -> SecretStr:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value.get_secret_value())
            port = url.port
        except (ArgumentError, ValueError) as exc:
            # The URL may hold a password: say what is wrong, never echo it.
            raise ValueError(f"not a database URL ({type(exc).__name__})") from None
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port {port} is outside 1-65535")
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {url.get_backend_name()!r}")
        return value

    @model_validator(mode="after")
    def _stores_under_data_dir(self) -> Settings:
        """Place the stores that were not set one by one under ``data_dir``."""
        if "database_url" not in self.model_fields_set:
            self.database_url = SecretStr(f"sqlite:///{self.data_dir / 'etl.db'}")
        if "lake_uri" not in self.model_fields_set:
            self.lake_uri = str(self.data_dir / "lake")
        if "cache_dir" not in self.http.model_fields_set:
            self.http = self.http.model_copy(update={"cache_dir": self.data_dir / "cache" / "http"})
        return self

    @property
    def database_url_value(self) -> str:
        """The database URL in clear, for building the engine only; never log it."""
        return self.database_url.get_secret_value()
