"""The report page: one self-contained HTML file, its charts embedded with Vega-Embed.

The Vega, Vega-Lite and Vega-Embed libraries are inlined (vl-convert bundles them), so the
page opens offline and loads nothing; each chart's specification sits in the page as JSON.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from string import Template
from typing import Any


@dataclass(frozen=True)
class Section:
    """One chart of the report: its file stem, heading, caption and Vega-Lite spec."""

    key: str
    title: str
    caption: str
    spec: dict[str, Any]


_PAGE = Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>$title</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 0 16px;
       color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 8px; }
nav a { margin-right: 12px; white-space: nowrap; }
section { margin: 28px 0; }
.caption { color: #555; max-width: 800px; }
.chart { min-height: 120px; }
</style>
<script>$bundle</script>
</head>
<body>
<header>
<h1>$title</h1>
<p>$summary</p>
<nav>$toc</nav>
</header>
<main>
$sections
</main>
<script type="application/json" id="report-specs">$specs</script>
<script>
const specs = JSON.parse(document.getElementById("report-specs").textContent);
window.reportCharts = Promise.all(Object.entries(specs).map(([key, spec]) =>
  vegaEmbed("#chart-" + key, spec, {actions: false, renderer: "svg"})));
</script>
</body>
</html>
"""
)

_SECTION = Template(
    """<section id="$key">
<h2>$title</h2>
<p class="caption">$caption <a href="$key.png">PNG</a></p>
<div class="chart" id="chart-$key"></div>
</section>"""
)


def render_page(title: str, summary: str, sections: Sequence[Section], bundle: str) -> str:
    """The whole page; ``bundle`` is the JavaScript that defines ``vegaEmbed``."""
    specs = json.dumps({s.key: s.spec for s in sections}, default=str)
    return _PAGE.substitute(
        title=html.escape(title),
        summary=html.escape(summary),
        toc=" ".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections),
        sections="\n".join(
            _SECTION.substitute(
                key=s.key, title=html.escape(s.title), caption=html.escape(s.caption)
            )
            for s in sections
        ),
        # JSON inside <script>: no "</script>" or "<!--" can end or change it.
        specs=specs.replace("<", "\\u003c"),
        bundle=bundle,
    )
