"""Every link in README.md and docs/*.md resolves inside the repository.

A relative link must name a file of the repository (never a path outside it), and its
``#anchor`` a heading of that file, by GitHub's rule: lowercase, spaces to '-',
punctuation other than '-' and '_' dropped, a repeated heading suffixed -1, -2, ...
"""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"`[^`]*`")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, with their numbers."""
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()  # a link: its text
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a file's headings; a repeated one gets -1, -2, ... as on GitHub."""
    found: set[str] = set()
    for _, line in prose_lines(path.read_text()):
        match = HEADING.match(line)
        if match:
            base = anchor = slug(match.group(1))
            repeat = 0
            while anchor in found:
                repeat += 1
                anchor = f"{base}-{repeat}"
            found.add(anchor)
    return found


def links(path: Path) -> list[tuple[int, str]]:
    return [
        (number, target)
        for number, line in prose_lines(path.read_text())
        for target in LINK.findall(CODE_SPAN.sub("", line))
    ]


def problem(doc: Path, target: str) -> str | None:
    """Why ``target``, linked from ``doc``, does not resolve inside the repository."""
    if re.match(r"^(https?|mailto):", target):
        return None  # a web page, not a path
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
        return "leaves the repository"
    file_part, _, anchor = target.partition("#")
    linked = (doc.parent / unquote(file_part)).resolve() if file_part else doc
    if not linked.is_relative_to(ROOT):
        return "leaves the repository"
    if not linked.exists():
        return "no such file"
    if anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
        return f"no heading #{anchor} in {linked.relative_to(ROOT)}"
    return None


def broken(doc: Path) -> list[str]:
    return [
        f"{doc.relative_to(ROOT)}:{number}: {target}: {why}"
        for number, target in links(doc)
        if (why := problem(doc, target)) is not None
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(doc: Path) -> None:
    assert broken(doc) == []


def test_the_docs_link_each_other() -> None:
    # the check above only means something if it sees the links
    assert len(links(ROOT / "README.md")) >= 10
    concepts = links(ROOT / "docs" / "concepts.md")
    assert any(target.startswith("design.md") for _, target in concepts)


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("design.md", None),
        ("design.md#how-time-advances", None),
        ("replay.md#meshrt-tca-run_dir---symbol-s---horizons-h---json", None),
        ("nowhere.md", "no such file"),
        ("design.md#no-such-heading", "no heading #no-such-heading in docs/design.md"),
        ("../../outside/notes.md", "leaves the repository"),
        ("/etc/hosts", "leaves the repository"),
        ("file:///etc/hosts", "leaves the repository"),
    ],
)
def test_a_broken_link_is_named(target: str, why: str | None) -> None:
    assert problem(ROOT / "docs" / "concepts.md", target) == why


def test_github_slugs() -> None:
    assert (
        slug("`meshrt tca RUN_DIR [--symbol S] [--json]`") == "meshrt-tca-run_dir---symbol-s---json"
    )
    assert slug("Windows, lookahead and determinism") == "windows-lookahead-and-determinism"


def test_no_source_or_doc_names_a_design_file_outside_the_repository() -> None:
    files = [
        *DOCS,
        *(ROOT / "meshrt").rglob("*.py"),
        *(ROOT / "meshrt").rglob("*.pyx"),
        *(ROOT / "tests").glob("*.py"),
        *(ROOT / "bench").rglob("*.py"),
    ]
    outside = "DESIGN" + ".md"  # spelled apart so this file does not name it
    assert [str(f.relative_to(ROOT)) for f in files if outside in f.read_text()] == []
