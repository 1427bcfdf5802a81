r"""Every relative link of README.md and docs/ leads somewhere: the file exists and, when the link names an #anchor,
the target file has a heading with that anchor.

Anchors are computed as GitHub computes them (its `[^\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\- ]` rule, as github-slugger
copies it), since that is where the manual is read: the heading's text lowercased, every character that is not a
letter, a mark, a decimal or letter number, a connector (`_`), a space or a hyphen dropped (so an en dash between two
spaces leaves two hyphens), spaces turned into hyphens, and `-1`, `-2`… added to repeated headings.
Accented letters stay (`#la-règle-des-zones-blanches-en-bref`). Links to other sites are not fetched: the tests run
without network. Headings and links inside fenced code blocks or `code spans` are not headings or links.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from geo_service.settings import REPO_DIR

DOCUMENTS = sorted([REPO_DIR / "README.md", *(REPO_DIR / "docs").rglob("*.md")])
FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); the text may run over a line break, the target may carry a "title".
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
KEPT = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "Pc"}  # the categories GitHub keeps
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:…


def prose(text: str) -> list[str]:
    """The lines of a Markdown file outside fenced code blocks (fenced lines become empty, to keep the numbering)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's Markdown text (see the module docstring)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps only its text
    text = re.sub(r"[`*]|(?<!\w)_|_(?!\w)", "", text).lower()  # code and emphasis marks are not text
    kept = "".join(ch for ch in text if ch in " -" or unicodedata.category(ch) in KEPT)
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: Counter[str] = Counter()
    found = set()
    for line in prose(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(1))
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def links(path: Path) -> list[str]:
    text = "\n".join(prose(path.read_text(encoding="utf-8")))
    return [match.group(1) for match in LINK.finditer(CODE_SPAN.sub("", text))]


def test_the_slugs_are_githubs() -> None:
    # Anchors by GitHub's rule, worked out by hand from it: accents kept, a lone dash leaves two hyphens, ² dropped.
    assert slug("Mettre à jour les projets (guide des agents)") == "mettre-à-jour-les-projets-guide-des-agents"
    assert slug("Data: sources, licence, rebuild") == "data-sources-licence-rebuild"
    assert slug("Several workers, PostGIS, all of France") == "several-workers-postgis-all-of-france"
    assert slug("OGC API – Features and Tiles") == "ogc-api--features-and-tiles"
    assert slug("Utiliser la carte (`/carte`)") == "utiliser-la-carte-carte"
    assert slug("snake_case and *emphasis*") == "snake_case-and-emphasis"
    assert slug("Habitants au km²") == "habitants-au-km"


def test_links_in_code_are_not_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Titre\n\n```md\n[a](missing.md)\n# Not a heading\n```\n`[b](nope.md)` and [c](#titre)\n")
    assert links(page) == ["#titre"]
    assert anchors(page) == {"titre"}


def broken_links(document: Path) -> list[str]:
    broken = []
    for target in links(document):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor} in {linked.name}")
    return broken


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Autre page\n\n## Deux mots\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n[ok](other.md#deux-mots) [ok](#page) [ok](https://example.org/x.md) ![ok](other.md)\n"
        "[no file](absent.md) [no anchor](other.md#trois-mots) [not here](#autre-page)\n"
    )
    assert broken_links(page) == [
        f"absent.md: no file {tmp_path / 'absent.md'}",
        "other.md#trois-mots: no heading with anchor #trois-mots in other.md",
        "#autre-page: no heading with anchor #autre-page in page.md",
    ]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(REPO_DIR).as_posix())
def test_relative_links_resolve(document: Path) -> None:
    broken = broken_links(document)
    assert not broken, f"{document.relative_to(REPO_DIR)} has broken links: {broken}"


def test_every_document_is_checked() -> None:
    names = {path.relative_to(REPO_DIR).as_posix() for path in DOCUMENTS}
    assert {"README.md", "docs/partners.md", "docs/agents.md", "docs/benchmarks.md"} <= names
