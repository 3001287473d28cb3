"""Cell normalization rules, one by one."""

from __future__ import annotations

from datetime import date

import pytest

from etl_service.src.adapters.wikipedia.changes import split_joined_tickers
from etl_service.src.adapters.wikipedia.normalize import (
    check_ticker,
    clean_text,
    normalize_cik,
    parse_change_date,
    parse_date_added,
    parse_founded,
    split_headquarters,
)

pytestmark = pytest.mark.unit


def test_clean_text_strips_footnotes_nbsp_and_whitespace() -> None:
    assert clean_text("  Arlington,\xa0Virginia[3]\n") == "Arlington, Virginia"
    assert clean_text("Market capitalization change.[12][a]") == "Market capitalization change."
    assert clean_text("Apple\u200b Inc.[citation needed]") == "Apple Inc."
    assert clean_text(None) == ""


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Apple Inc.", "Apple Inc."),
        ("3M", "3M"),
        (" Apple", "Apple"),
        ("Apple ", "Apple"),
        ("Apple  Inc.", "Apple Inc."),
        ("Apple\tInc.", "Apple Inc."),
        ("Apple\nInc.", "Apple Inc."),
        ("Apple[1]", "Apple"),
        ("Apple[A]", "Apple"),
        ("Apple [b]", "Apple"),
        ("Nestl\xe9", "Nestl\xe9"),
        ("Apple\xa0Inc.", "Apple Inc."),
        ("[note 1]", ""),
        ("Array[idx]", "Array[idx]"),
    ],
)
def test_clean_text_leaves_clean_cells_as_they_are_and_cleans_the_rest(
    value: str, cleaned: str
) -> None:
    assert clean_text(value) == cleaned


@pytest.mark.parametrize(
    ("raw", "ticker", "note"),
    [
        ("MMM", "MMM", None),
        ("BRK.B", "BRK.B", None),
        ("BRK-B", "BRK.B", "ticker 'BRK-B' in vendor spelling, normalised to BRK.B"),
        ("BF/B", "BF.B", "ticker 'BF/B' in vendor spelling, normalised to BF.B"),
        (
            "RVTY (Previously PKI)",
            "RVTY",
            "ticker 'RVTY (Previously PKI)' read as RVTY (former ticker PKI)",
        ),
        (" GOOGL[1] ", "GOOGL", None),
    ],
)
def test_ticker_rule_keeps_or_repairs(raw: str, ticker: str, note: str | None) -> None:
    check = check_ticker(raw)
    assert (check.ticker, check.note, check.reason) == (ticker, note, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("American Airlines Group", "'American Airlines Group' is not a ticker"),
        ("reports", "'reports' is not a ticker"),
        ("", "ticker is empty"),
        ("TOOLONGX", "'TOOLONGX' is not a ticker"),
        ("UA/UAA", "'UA/UAA' is not a ticker"),
    ],
)
def test_ticker_rule_refuses_non_tickers(raw: str, reason: str) -> None:
    assert check_ticker(raw).ticker is None
    assert check_ticker(raw).reason == reason


def test_joined_share_classes_split_only_when_each_part_is_a_ticker() -> None:
    assert split_joined_tickers("UA/UAA") == ["UA", "UAA"]
    assert split_joined_tickers("DISCA / DISCK") == ["DISCA", "DISCK"]
    assert split_joined_tickers("BRK/B") is None
    assert split_joined_tickers("UA") is None


def test_cik_is_zero_padded_ten_digits() -> None:
    assert normalize_cik("66740") == "0000066740"
    assert normalize_cik("0001652044") == "0001652044"
    assert normalize_cik(" ") is None
    with pytest.raises(ValueError, match="'12a' is not a CIK"):
        normalize_cik("12a")
    with pytest.raises(ValueError, match="is not a CIK"):
        normalize_cik("0")


def test_date_added_takes_the_first_iso_date_or_null_with_a_note() -> None:
    assert parse_date_added("1983-11-30 (1957-03-04)") == (date(1983, 11, 30), None)
    assert parse_date_added("2017-07-26") == (date(2017, 7, 26), None)
    assert parse_date_added("") == (None, None)
    assert parse_date_added("2009") == (None, "date added '2009' is not a full ISO date")
    assert parse_date_added("2001?") == (None, "date added '2001?' is not a full ISO date")
    assert parse_date_added("2019-02-30") == (None, "date added '2019-02-30' is not a valid date")


def test_founded_gives_first_year_and_raw_text() -> None:
    assert parse_founded("2013 (1888)") == (2013, "2013 (1888)")
    assert parse_founded("1975/1977 (1997)") == (1975, "1975/1977 (1997)")
    assert parse_founded("2022 (Johnson & Johnson spinoff)") == (
        2022,
        "2022 (Johnson & Johnson spinoff)",
    )
    assert parse_founded("unknown") == (None, "unknown")
    assert parse_founded("") == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Saint Paul, Minnesota", ("Saint Paul", "Minnesota")),
        ("Dublin, Ireland", ("Dublin", "Ireland")),
        ("Warmley, Bristol, United Kingdom", ("Warmley", "United Kingdom")),
        ("Chicago, Illinois; Pittsburgh, Pennsylvania", (None, None)),
        ("Amsterdam", (None, None)),
        ("", (None, None)),
    ],
)
def test_headquarters_split(raw: str, expected: tuple[str | None, str | None]) -> None:
    assert split_headquarters(raw) == expected


def test_change_dates_prose_and_iso() -> None:
    assert parse_change_date("November 1, 2022") == date(2022, 11, 1)
    assert parse_change_date("Sept. 20, 2021") == date(2021, 9, 20)
    assert parse_change_date("1 November 2022") == date(2022, 11, 1)
    assert parse_change_date("2022-11-01") == date(2022, 11, 1)
    with pytest.raises(ValueError, match="'soon' is not a date"):
        parse_change_date("soon")
