"""The documentation site: mkdocs.yml builds docs/ strictly (no broken link or anchor, no page left
out of the navigation), and the README's links into docs/ land on real pages and headings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from markdown.extensions.toc import slugify

REPO = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # the theme's notice about its successor
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config),
                           "--site-dir", str(site)], capture_output=True, text=True, timeout=120, env=env)


def nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def headings(page: Path) -> set[str]:
    """The anchors MkDocs gives the page's headings (fenced code skipped)."""
    anchors, fenced = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            anchors.add(slugify(line.lstrip("#").strip().replace("`", ""), "-"))
    return anchors


def test_the_site_builds_strictly(tmp_path):
    result = build(REPO / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "design" / "index.html").exists()
    # a pipe escaped for GitHub inside a table's code span shows as a plain pipe on the site
    commands = (tmp_path / "site" / "commands" / "index.html").read_text()
    assert "<code>osctl validate [--format text|json]</code>" in commands


def test_every_page_is_in_the_navigation_and_on_the_home_page():
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    pages = sorted(p.name for p in (REPO / "docs").glob("*.md"))
    assert sorted(nav_pages(config["nav"])) == pages
    linked = {target.split("#")[0] for target in LINK.findall((REPO / "docs" / "index.md").read_text())}
    assert set(pages) - {"index.md"} <= linked


def test_a_broken_anchor_fails_the_build(tmp_path):
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")  # the hooks it names
    page = tmp_path / "docs" / "troubleshooting.md"
    page.write_text(page.read_text() + "\nSee [the backend](state.md#no-such-heading).\n")
    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 1
    assert "state.md#no-such-heading" in result.stderr


def test_the_readme_links_land_on_real_pages_and_headings():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    targets = [t for t in LINK.findall(readme) if not t.startswith(("http://", "https://"))]
    assert any(t.startswith("docs/design.md") for t in targets)
    for target in targets:
        path, _, anchor = target.partition("#")
        assert (REPO / path).exists(), f"README links to missing {path}"
        if anchor:
            assert anchor in headings(REPO / path), f"README links to {target}: no such heading"


DOC_REFERENCE = re.compile(r"docs/([\w-]+\.md)((?:#[\w-]+)?)([^)\n]*(?:\n[^)\n]*)?\))?")


def test_comments_point_to_headings_that_exist():
    """Code comments cite docs/PAGE.md#anchor (further anchors of that page may follow as #anchor)."""
    checked = 0
    for folder in ("osctl", "tests", "bench", "scripts"):
        for source in sorted((REPO / folder).rglob("*.py")):
            if source.parent == Path(__file__).parent:
                continue  # these tests, whose patterns are not citations
            for page, anchor, rest in DOC_REFERENCE.findall(source.read_text(encoding="utf-8")):
                assert (REPO / "docs" / page).exists(), f"{source.relative_to(REPO)} cites missing docs/{page}"
                anchors = [anchor] + re.findall(r"(?<![\w/.])#[a-z0-9][\w-]*", rest or "")
                for name in filter(None, anchors):
                    assert name[1:] in headings(REPO / "docs" / page), \
                        f"{source.relative_to(REPO)} cites docs/{page}{name}: no such heading"
                    checked += 1
    assert checked >= 30  # the comments that cite the design and the API facts
