"""Wikipedia "List of S&P 500 companies": live fetch with raw archive, parser, CSV scrapes."""

from etl_service.src.adapters.wikipedia.csv_snapshot import (
    read_constituents_csv,
    read_members_csv,
)
from etl_service.src.adapters.wikipedia.fetch import FetchedPage, fetch_page, read_page_file
from etl_service.src.adapters.wikipedia.parser import ParsedPage, parse_page

__all__ = [
    "FetchedPage",
    "ParsedPage",
    "fetch_page",
    "parse_page",
    "read_constituents_csv",
    "read_members_csv",
    "read_page_file",
]
