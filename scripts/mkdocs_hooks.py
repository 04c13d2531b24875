"""MkDocs hooks (mkdocs.yml `hooks:`): make GitHub-flavoured tables render the same on the site.

GitHub needs a pipe inside a code span in a table cell written as `\\|` and shows it as `|`;
Python-Markdown already keeps code spans in one cell and would show the backslash. So on the
site, `\\|` inside the code spans of table rows becomes a plain `|`.
"""

from __future__ import annotations

import re

CODE_SPAN = re.compile(r"`[^`\n]*`")


def on_page_markdown(markdown: str, **_) -> str:
    return "\n".join(unescape_table_row(line) if line.lstrip().startswith("|") else line
                     for line in markdown.split("\n"))


def unescape_table_row(line: str) -> str:
    return CODE_SPAN.sub(lambda span: span.group(0).replace("\\|", "|"), line)
