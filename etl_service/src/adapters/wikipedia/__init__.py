"""Wikipedia "List of S&P 500 companies": live fetch with raw archive, past revisions, parser."""

from etl_service.src.adapters.wikipedia.fetch import FetchedPage, fetch_page, read_page_file
from etl_service.src.adapters.wikipedia.parser import ParsedPage, parse_page
from etl_service.src.adapters.wikipedia.revisions import (
    RevisionClient,
    RevisionPage,
    revision_pages,
)

__all__ = [
    "FetchedPage",
    "ParsedPage",
    "RevisionClient",
    "RevisionPage",
    "fetch_page",
    "parse_page",
    "read_page_file",
    "revision_pages",
]
