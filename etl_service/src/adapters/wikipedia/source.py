"""The live constituents source: the Wikipedia page, fetched, archived raw and parsed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl_service.src.adapters.wikipedia.fetch import fetch_page
from etl_service.src.adapters.wikipedia.parser import ParsedPage, parse_page

if TYPE_CHECKING:
    from etl_service.src.adapters.registry import SourceContext


class WikipediaSource:
    """``ETL_WIKIPEDIA_URL``, fetched with the service's User-Agent and archived raw."""

    name = "wikipedia"

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def constituents(self) -> ParsedPage:
        url = self.context.settings.wikipedia_url
        page = fetch_page(self.context.fetcher(probe=True), url, self.context.archive)
        if page.result.from_cache:
            self.context.notes.append(
                f"constituents: the page is unchanged (revision {page.revision or 'unknown'}, "
                "HTTP 304); parsed from the stored copy"
            )
        return parse_page(page.body, url)
