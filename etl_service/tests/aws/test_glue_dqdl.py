"""The DQDL export, rule by rule: each project rule's DQDL, or why there is none."""

from __future__ import annotations

import pytest

from etl_service.aws.glue.dqdl import DqdlRule, export, ruleset
from etl_service.aws.glue.local_dq import parse_ruleset
from etl_service.cli import main
from etl_service.settings import QualitySettings
from etl_service.src.models.quality import Severity
from etl_service.src.models.schemas import CURATED_TABLES
from etl_service.src.transforms.quality import rules

pytestmark = pytest.mark.unit

SECTORS = (
    '"Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy", '
    '"Financials", "Health Care", "Industrials", "Information Technology", "Materials", '
    '"Real Estate", "Utilities"'
)

EXPECTED = {
    ("not_null", "companies"): (
        '(IsComplete "ticker") and (IsComplete "name") and (IsComplete "sector") '
        'and (IsComplete "sub_industry")'
    ),
    ("unique_key", "companies"): 'IsPrimaryKey "ticker"',
    ("unique_key", "index_membership"): 'IsPrimaryKey "ticker" "valid_from"',
    ("sector_is_gics", "companies"): f'ColumnValues "sector" in [{SECTORS}]',
    ("constituent_count_between_495_and_510", "companies"): "RowCount between 494 and 511",
    ("sub_industry_exists", "companies"): (
        'ReferentialIntegrity "sub_industry" "sub_industries.sub_industry" = 1.0'
    ),
    ("revenue_not_negative", "quarterly_reports"): (
        '(ColumnValues "revenue" >= 0) or (ColumnValues "revenue" = NULL)'
    ),
    ("profit_margin_between_-10_and_1", "quarterly_reports"): (
        'CustomSql "SELECT cik, period_end FROM primary WHERE NOT COALESCE('
        'profit_margin < -10.0 OR profit_margin > 1.0, false)"'
    ),
    ("closing_price_positive", "prices_pe"): (
        '(ColumnValues "closing_price" > 0) or (ColumnValues "closing_price" = NULL)'
    ),
    ("pe_between_3_and_1000", "prices_pe"): (
        'CustomSql "SELECT ticker, period_end FROM primary WHERE NOT COALESCE('
        'price_earnings_ratio < 3.0 OR price_earnings_ratio > 1000.0, false)"'
    ),
    ("prices_pe_ticker_is_a_company", "prices_pe"): (
        'ReferentialIntegrity "ticker" "companies.ticker" = 1.0'
    ),
}

ROW_LEVEL = {
    "not_null",
    "sector_is_gics",
    "revenue_not_negative",
    "profit_margin_between_-10_and_1",
    "closing_price_positive",
    "pe_between_3_and_1000",
}


@pytest.fixture(scope="module")
def exported() -> dict[tuple[str, str], DqdlRule]:
    return {(m.rule, m.table): m for m in export(QualitySettings())}


@pytest.mark.parametrize(("key", "dqdl"), EXPECTED.items(), ids=lambda v: str(v))
def test_each_rule_has_its_dqdl(
    exported: dict[tuple[str, str], DqdlRule], key: tuple[str, str], dqdl: str
) -> None:
    mapped = exported[key]
    assert mapped.dqdl == dqdl
    assert mapped.row_level is (key[0] in ROW_LEVEL)


def test_every_project_rule_is_mapped_and_keeps_its_severity(
    exported: dict[tuple[str, str], DqdlRule],
) -> None:
    settings = QualitySettings()
    project = rules({spec.name for spec in CURATED_TABLES}, settings)
    assert {(r.name, r.table) for r in project} <= set(exported)
    for rule in project:
        mapped = exported[(rule.name, rule.table)]
        assert mapped.dqdl is not None, rule.name
        assert mapped.severity is rule.severity


def test_no_shrink_is_declared_inexpressible_with_the_reason(
    exported: dict[tuple[str, str], DqdlRule],
) -> None:
    for spec in CURATED_TABLES:
        mapped = exported[("no_shrink", spec.name)]
        assert mapped.dqdl is None
        assert mapped.severity is Severity.CRITICAL
        assert "--allow-shrink" in mapped.note
        assert "last(1)" in mapped.note


def test_the_rules_that_need_another_table_name_it(
    exported: dict[tuple[str, str], DqdlRule],
) -> None:
    assert exported[("sub_industry_exists", "companies")].references == ("sub_industries",)
    assert exported[("prices_pe_ticker_is_a_company", "prices_pe")].references == ("companies",)
    assert "own SQL" in exported[("prices_pe_ticker_is_a_company", "prices_pe")].note


def test_thresholds_come_from_the_settings() -> None:
    settings = QualitySettings(constituents_min=400, constituents_max=600, pe_min=1, pe_max=50)
    mapped = {m.rule: m.dqdl for m in export(settings)}
    assert mapped["constituent_count_between_400_and_600"] == "RowCount between 399 and 601"
    assert "price_earnings_ratio < 1.0 OR price_earnings_ratio > 50.0" in str(
        mapped["pe_between_1_and_50"]
    )


def test_primary_keys_are_required_columns_so_is_primary_key_adds_nothing() -> None:
    for spec in CURATED_TABLES:
        assert all(not spec.column(k).nullable for k in spec.key), spec.name


def test_each_table_ruleset_is_flat_dqdl_in_rule_order() -> None:
    mapped = export(QualitySettings())
    for spec in CURATED_TABLES:
        own = [m for m in mapped if m.table == spec.name]
        parsed = parse_ruleset(ruleset(own))
        assert [top.text for top in parsed] == [m.dqdl for m in own if m.dqdl]
        for top in parsed:
            assert all(part.type for part in top.parts)  # no nested composites


def test_cli_prints_the_rulesets_and_the_mapping(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["glue", "dqdl"]) == 0
    out = capsys.readouterr().out
    assert "# prices_pe: EvaluateDataQuality ruleset\nRules = [\n" in out
    assert (
        "revenue_not_negative on quarterly_reports (warning): "
        '(ColumnValues "revenue" >= 0) or (ColumnValues "revenue" = NULL) [row-level]'
    ) in out
    assert "no_shrink on companies (critical): not expressible in DQDL" in out
