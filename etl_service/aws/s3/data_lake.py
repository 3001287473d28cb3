"""The lake's S3 bucket as code: ``setup_data_lake`` creates what is missing, idempotently.

Each aspect reads the bucket's configuration, compares it with the intended one and writes
only when they differ, so a second call changes nothing and says so. The aspects:
versioning; default encryption (SSE-S3, or SSE-KMS with a bucket key); a full public
access block; lifecycle (the raw zone to Standard-IA and then Glacier, expiry of
noncurrent versions and of abandoned multipart uploads under the lake prefix; lifecycle
rules of other IDs are kept); optional replication of the bucket; and the Glue
databases of the catalog. Iceberg data files stay in Standard: readers need them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from etl_service.errors import ConfigError, StoreUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client

RAW_TIERING_RULE = "etl-raw-tiering"
NONCURRENT_RULE = "etl-noncurrent-expiry"
REPLICATION_RULE = "etl-lake-replication"
ABORT_MULTIPART_DAYS = 7


@dataclass(frozen=True)
class DataLakeBucket:
    """The intended configuration of the lake's bucket.

    ``databases`` maps each Glue database to its location URI.
    """

    bucket: str
    prefix: str
    region: str
    kms_key_id: str | None = None
    raw_infrequent_access_days: int = 30
    raw_archive_days: int = 90
    noncurrent_version_expiry_days: int = 30
    replication_bucket_arn: str | None = None
    replication_role_arn: str | None = None
    databases: Mapping[str, str] | None = None

    def under(self, *parts: str) -> str:
        """The key prefix of ``parts`` under the lake prefix, ending in ``/``."""
        return "".join(f"{p.strip('/')}/" for p in (self.prefix, *parts) if p.strip("/"))


def setup_data_lake(s3: S3Client, glue: GlueClient | None, lake: DataLakeBucket) -> list[str]:
    """Bring the bucket (and the Glue databases, with ``glue``) to ``lake``'s configuration.

    Returns:
        What was changed, one phrase each; empty when everything was already as intended.

    Raises:
        ConfigError: the configuration is inconsistent (replication half set, archive
            before infrequent access).
        StoreUnavailableError: S3 or Glue refused a call.
    """
    _validate(lake)
    from botocore.exceptions import BotoCoreError, ClientError

    steps: list[Callable[[], str | None]] = [
        lambda: _bucket(s3, lake),
        lambda: _versioning(s3, lake),
        lambda: _encryption(s3, lake),
        lambda: _public_access_block(s3, lake),
        lambda: _lifecycle(s3, lake),
        lambda: _replication(s3, lake),
    ]
    if glue is not None:
        steps += [partial(_database, glue, name, uri) for name, uri in _databases(lake)]
    changes = []
    for step in steps:
        try:
            change = step()
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"setting up s3://{lake.bucket} failed: {exc}") from exc
        if change:
            changes.append(change)
    return changes


def encryption_rules(lake: DataLakeBucket) -> list[dict[str, Any]]:
    """The intended default-encryption rules."""
    if lake.kms_key_id:
        by_default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": lake.kms_key_id}
        return [{"ApplyServerSideEncryptionByDefault": by_default, "BucketKeyEnabled": True}]
    return [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]


PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def lifecycle_rules(lake: DataLakeBucket) -> list[dict[str, Any]]:
    """The intended lifecycle rules of the lake (rules of other IDs are left alone)."""
    return [
        {
            "ID": RAW_TIERING_RULE,
            "Filter": {"Prefix": lake.under("raw")},
            "Status": "Enabled",
            "Transitions": [
                {"Days": lake.raw_infrequent_access_days, "StorageClass": "STANDARD_IA"},
                {"Days": lake.raw_archive_days, "StorageClass": "GLACIER"},
            ],
        },
        {
            "ID": NONCURRENT_RULE,
            "Filter": {"Prefix": lake.under()},
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": lake.noncurrent_version_expiry_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
        },
    ]


def replication_configuration(lake: DataLakeBucket) -> dict[str, Any] | None:
    """The intended replication of the bucket, or None when none is configured.

    The whole bucket is replicated (give the lake a bucket of its own): the raw payloads,
    the Iceberg files and their metadata only make sense together.
    """
    if not lake.replication_bucket_arn or not lake.replication_role_arn:
        return None
    return {
        "Role": lake.replication_role_arn,
        "Rules": [
            {
                "ID": REPLICATION_RULE,
                "Priority": 1,
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": lake.replication_bucket_arn},
            }
        ],
    }


def _validate(lake: DataLakeBucket) -> None:
    if bool(lake.replication_bucket_arn) != bool(lake.replication_role_arn):
        raise ConfigError(
            "replication needs both ETL_BUCKET__REPLICATION_BUCKET_ARN and "
            "ETL_BUCKET__REPLICATION_ROLE_ARN"
        )
    if lake.raw_archive_days <= lake.raw_infrequent_access_days:
        raise ConfigError(
            f"ETL_BUCKET__RAW_ARCHIVE_DAYS ({lake.raw_archive_days}) must come after "
            f"ETL_BUCKET__RAW_INFREQUENT_ACCESS_DAYS ({lake.raw_infrequent_access_days})"
        )


def _error_code(exc: Exception) -> str:
    response: Mapping[str, Any] = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _bucket(s3: S3Client, lake: DataLakeBucket) -> str | None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=lake.bucket)
        return None
    except ClientError as exc:
        if _error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    if lake.region == "us-east-1":
        s3.create_bucket(Bucket=lake.bucket)
    else:
        s3.create_bucket(
            Bucket=lake.bucket,
            CreateBucketConfiguration={"LocationConstraint": lake.region},  # type: ignore[typeddict-item]
        )
    return f"created bucket {lake.bucket} in {lake.region}"


def _versioning(s3: S3Client, lake: DataLakeBucket) -> str | None:
    if s3.get_bucket_versioning(Bucket=lake.bucket).get("Status") == "Enabled":
        return None
    s3.put_bucket_versioning(Bucket=lake.bucket, VersioningConfiguration={"Status": "Enabled"})
    return "enabled versioning"


def _encryption(s3: S3Client, lake: DataLakeBucket) -> str | None:
    from botocore.exceptions import ClientError

    wanted = encryption_rules(lake)
    try:
        rules = s3.get_bucket_encryption(Bucket=lake.bucket)["ServerSideEncryptionConfiguration"]
        current = [_without_defaults(dict(r)) for r in rules["Rules"]]
    except ClientError as exc:
        if _error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        current = []
    if current == wanted:
        return None
    configuration: Any = {"Rules": wanted}
    s3.put_bucket_encryption(Bucket=lake.bucket, ServerSideEncryptionConfiguration=configuration)
    kind = f"SSE-KMS with key {lake.kms_key_id}" if lake.kms_key_id else "SSE-S3"
    return f"set default encryption to {kind}"


def _without_defaults(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as read back, without the bucket key flag S3 adds as false for SSE-S3."""
    if rule.get("BucketKeyEnabled") is False:
        rule.pop("BucketKeyEnabled")
    return rule


def _public_access_block(s3: S3Client, lake: DataLakeBucket) -> str | None:
    from botocore.exceptions import ClientError

    try:
        current = dict(
            s3.get_public_access_block(Bucket=lake.bucket)["PublicAccessBlockConfiguration"]
        )
    except ClientError as exc:
        if _error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    if current == PUBLIC_ACCESS_BLOCK:
        return None
    block: Any = PUBLIC_ACCESS_BLOCK
    s3.put_public_access_block(Bucket=lake.bucket, PublicAccessBlockConfiguration=block)
    return "blocked all public access"


def _lifecycle(s3: S3Client, lake: DataLakeBucket) -> str | None:
    from botocore.exceptions import ClientError

    try:
        rules = [
            dict(r) for r in s3.get_bucket_lifecycle_configuration(Bucket=lake.bucket)["Rules"]
        ]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    wanted = lifecycle_rules(lake)
    ours = {r["ID"] for r in wanted}
    if [r for r in rules if r.get("ID") in ours] == wanted:
        return None
    configuration: Any = {"Rules": [*[r for r in rules if r.get("ID") not in ours], *wanted]}
    s3.put_bucket_lifecycle_configuration(Bucket=lake.bucket, LifecycleConfiguration=configuration)
    return (
        f"set lifecycle: raw/ to Standard-IA after {lake.raw_infrequent_access_days} days and "
        f"Glacier after {lake.raw_archive_days}, noncurrent versions expire after "
        f"{lake.noncurrent_version_expiry_days}"
    )


def _replication(s3: S3Client, lake: DataLakeBucket) -> str | None:
    from botocore.exceptions import ClientError

    wanted = replication_configuration(lake)
    if wanted is None:
        return None
    try:
        current: dict[str, Any] = dict(
            s3.get_bucket_replication(Bucket=lake.bucket)["ReplicationConfiguration"]
        )
    except ClientError as exc:
        if _error_code(exc) != "ReplicationConfigurationNotFoundError":
            raise
        current = {}
    if current == wanted:
        return None
    configuration: Any = wanted
    s3.put_bucket_replication(Bucket=lake.bucket, ReplicationConfiguration=configuration)
    return f"replicating the bucket to {lake.replication_bucket_arn}"


def _databases(lake: DataLakeBucket) -> list[tuple[str, str]]:
    return sorted((lake.databases or {}).items())


def _database(glue: GlueClient, name: str, location: str) -> str | None:
    try:
        glue.get_database(Name=name)
        return None
    except glue.exceptions.EntityNotFoundException:
        pass
    glue.create_database(DatabaseInput={"Name": name, "LocationUri": location})
    return f"created Glue database {name} at {location}"
