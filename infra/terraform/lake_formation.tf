# Lake Formation as governance.tf.json declares it (the same model as the setup module's
# governance.toml). Terraform owns what exists before the first run: the settings, the
# location, the LF-tags, the databases' tags and the tag-based grants. The setup module
# (python -m etl_service.aws.lake_formation.setup) then tags the tables and columns that
# runs create, and repairs drift; as both grant exactly what the two files declare,
# neither undoes the other.

locals {
  admins = distinct(concat(
    [for a in local.governance.admins : replace(replace(a, "{caller}", data.aws_iam_session_context.current.issuer_arn), "{account}", local.account_id)],
    var.lake_admin_arns,
  ))
  role_arns = {
    etl     = aws_iam_role.etl.arn
    analyst = aws_iam_role.analyst.arn
  }
  # One key per grant: "<role>:<resource kind>".
  grants = { for g in local.governance.grants : "${g.role}:${g.on}" => g }
}

data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

resource "aws_lakeformation_data_lake_settings" "lake" {
  admins = local.admins
  # No create_*_default_permissions: new databases and tables get no IAMAllowedPrincipals
  # grant, so Lake Formation permissions, not IAM alone, decide.
}

resource "aws_lakeformation_resource" "lake" {
  arn      = "${aws_s3_bucket.lake.arn}/${var.lake_prefix}"
  role_arn = aws_iam_role.location.arn
  # The location role must be able to reach the lake before it is registered.
  depends_on = [aws_iam_role_policy.location, aws_lakeformation_data_lake_settings.lake]
}

resource "aws_lakeformation_lf_tag" "tag" {
  for_each   = local.governance.lf_tags
  key        = each.key
  values     = each.value
  depends_on = [aws_lakeformation_data_lake_settings.lake]
}

resource "aws_lakeformation_resource_lf_tags" "database" {
  for_each = local.governance.databases
  database {
    name = aws_glue_catalog_database.zone[each.key].name
  }
  dynamic "lf_tag" {
    for_each = each.value
    content {
      key   = aws_lakeformation_lf_tag.tag[lf_tag.key].key
      value = lf_tag.value
    }
  }
}

resource "aws_lakeformation_permissions" "grant" {
  for_each    = local.grants
  principal   = local.role_arns[each.value.role]
  permissions = each.value.permissions

  dynamic "data_location" {
    for_each = each.value.on == "data_location" ? [1] : []
    content {
      arn = aws_lakeformation_resource.lake.arn
    }
  }

  dynamic "lf_tag_policy" {
    for_each = each.value.on == "data_location" ? [] : [each.value.where]
    content {
      resource_type = upper(each.value.on)
      dynamic "expression" {
        for_each = lf_tag_policy.value
        content {
          key    = aws_lakeformation_lf_tag.tag[expression.key].key
          values = expression.value
        }
      }
    }
  }

  depends_on = [aws_lakeformation_resource_lf_tags.database]
}
