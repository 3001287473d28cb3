"""Wikipedia "List of S&P 500 companies": live fetch with raw archive, and the page parser."""

from etl_service.src.adapters.wikipedia.fetch import FetchedPage, fetch_page, read_page_file
from etl_service.src.adapters.wikipedia.parser import ParsedPage, parse_page

__all__ = [
    "FetchedPage",
    "ParsedPage",
    "fetch_page",
    "parse_page",
    "read_page_file",
]
