"""The docs a newcomer walks: every relative link and image in README.md, docs/*.md and
bench/README.md resolves — the file exists, and an #anchor names a heading of the
target file, slugged as GitHub does. Links to the web are not fetched. README.md stays
a short front door that leads to every page in docs/."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_LIMIT = 12 * 1024  # bytes

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
# [text](target) and ![alt](target); the text may hold one level of brackets.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]"  # [text], one level of nested brackets
    r"\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"  # (target, balanced parens
)
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def documents() -> list[Path]:
    docs = sorted((ROOT / "docs").glob("*.md"))
    return [README, *docs, ROOT / "bench" / "README.md"]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    out, fence = [], None
    for number, line in enumerate(text.splitlines(), 1):
        opened = FENCE.match(line)
        if fence is None:
            if opened:
                fence = opened.group(1)
            else:
                out.append((number, line))
        elif opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
            fence = None
    return out


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link and image outside code."""
    found = []
    for number, line in prose_lines(text):
        line = CODE_SPAN.sub("", line)
        for match in INLINE_LINK.finditer(line):
            found.append((number, match.group(1)))
        definition = REFERENCE_DEF.match(line)
        if definition:
            found.append((number, definition.group(1)))
    return [(n, target.strip("<>")) for n, target in found]


def heading_text(raw: str) -> str:
    """A heading's text as GitHub renders it: no code ticks, emphasis, links or tags."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)  # [text](url) -> text
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("`", "")
    text = re.sub(r"(\*+)(\S(?:.*?\S)?)\1", r"\2", text)  # *em*, **strong**
    text = re.sub(r"(?<!\w)(_+)(\S(?:.*?\S)?)\1(?!\w)", r"\2", text)  # _em_, not snake_case
    return text.strip()


def slug(text: str) -> str:
    """GitHub's anchor for a heading: lowercase; letters, digits, marks, '_' and '-' kept;
    spaces become '-'; everything else (punctuation, emoji) dropped."""
    kept = []
    for ch in text.lower():
        category = unicodedata.category(ch)
        if ch == " ":
            kept.append("-")
        elif ch == "-" or category[0] in "LMN" or category == "Pc":
            kept.append(ch)
    return "".join(kept)


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file; a repeated one gets -1, -2 …"""
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        heading = ATX_HEADING.match(line)
        if not heading:
            continue
        base = slug(heading_text(heading.group(2)))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def broken_links(doc: Path) -> list[str]:
    problems = []
    for number, target in links(doc.read_text(encoding="utf-8")):
        where = f"{doc.relative_to(ROOT)}:{number}: ({target})"
        if not target or target.startswith("//") or SCHEME.match(target):
            continue  # the web (or an empty link, which no page here has)
        path_part, _, anchor = target.partition("#")
        path_part = unquote(path_part.split("?", 1)[0])
        resolved = (doc.parent / path_part).resolve() if path_part else doc
        if not resolved.exists():
            problems.append(f"{where} no such file {os.path.relpath(resolved, ROOT)}")
            continue
        if anchor and resolved.suffix.lower() == ".md":
            if unquote(anchor).lower() not in anchors(resolved):
                problems.append(
                    f"{where} no heading #{anchor} in {os.path.relpath(resolved, ROOT)}"
                )
    return problems


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    assert doc.exists(), f"{doc.relative_to(ROOT)} is missing"
    problems = broken_links(doc)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_readme_is_a_short_front_door_to_every_doc() -> None:
    size = README.stat().st_size
    assert size < README_LIMIT, f"README.md is {size} bytes; move detail into docs/"
    targets = [target for _, target in links(README.read_text(encoding="utf-8"))]
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in targets}
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert not missing, f"docs not linked from README.md: {missing}"


def test_the_checker_itself() -> None:
    assert slug(heading_text("Telegram: polling or webhook")) == "telegram-polling-or-webhook"
    assert slug(heading_text("The operator's part")) == "the-operators-part"
    assert (
        slug(heading_text("engine — `python -m bench engine`")) == "engine--python--m-bench-engine"
    )
    assert (
        slug(heading_text("Worked example: adding one command"))
        == "worked-example-adding-one-command"
    )
    assert (
        slug(heading_text("**Ordering** and `GIGBOT_TICK_SECONDS`"))
        == "ordering-and-gigbot_tick_seconds"
    )
    assert slug(heading_text("🔁 Both")) == "-both"
    assert slug(heading_text("Деньги и выплаты")) == "деньги-и-выплаты"
    text = "\n".join(
        [
            'See [a](docs/x.md#y), ![img](docs/p.png "title") and [web](https://example.com).',
            "Not `[code](nowhere.md)`.",
            "```",
            "[fenced](nowhere.md)",
            "```",
            "[ref]: <docs/with space.md>",
            "[nested [brackets]](z.md) and [parens](f(1).md)",
        ]
    )
    assert [t for _, t in links(text)] == [
        "docs/x.md#y",
        "docs/p.png",
        "https://example.com",
        "docs/with space.md",
        "z.md",
        "f(1).md",
    ]
