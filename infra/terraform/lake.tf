# The lake's bucket, configured exactly as `etl-service lake setup` would configure it
# (etl_service/aws/s3/data_lake.py, same rule IDs): after an apply, setup changes nothing.

locals {
  lake_uri  = "s3://${var.lake_bucket}/${var.lake_prefix}"
  lake_keys = "${var.lake_prefix}/"
  databases = {
    curated   = var.namespace
    processed = "${var.namespace}_processed"
  }
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
}

resource "aws_s3_bucket" "lake" {
  bucket        = var.lake_bucket
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn == null ? null : true
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  # Noncurrent-version expiry needs versioning in place first.
  depends_on = [aws_s3_bucket_versioning.lake]

  rule {
    id     = "etl-raw-tiering"
    status = "Enabled"
    filter {
      prefix = "${local.lake_keys}raw/"
    }
    transition {
      days          = var.raw_infrequent_access_days
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = var.raw_archive_days
      storage_class = "GLACIER"
    }
  }

  rule {
    id     = "etl-noncurrent-expiry"
    status = "Enabled"
    filter {
      prefix = local.lake_keys
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiry_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "lake" {
  bucket = aws_s3_bucket.lake.id
  policy = data.aws_iam_policy_document.lake_bucket.json
  # A bucket policy is refused while the account's default block would call it public.
  depends_on = [aws_s3_bucket_public_access_block.lake]
}

data "aws_iam_policy_document" "lake_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The Glue databases of the two Iceberg zones, where `etl-service lake setup` would put them.
resource "aws_glue_catalog_database" "zone" {
  for_each     = local.databases
  name         = each.value
  location_uri = "${local.lake_uri}/${each.key}"
}
