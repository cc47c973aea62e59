"""The docs a newcomer reads live in the clone, and the generated ones say what the code does.

- docs/departments.md, docs/marts.md and dbt_project/seeds/registry/*.csv are
  exactly what ``python -m citydw.docs`` writes from registry/, expectations/
  and the marts' dbt YAML, so they cannot drift from them;
- no link in README.md, docs/ or dbt_project/'s READMEs leaves the repository:
  every link is a relative path to a file of the clone (and, with an anchor,
  to a heading in it), never ``../shared`` or a URL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from citydw import docs
from citydw.registry import load_registry

REPOSITORY = docs.repository_root()
LINK = re.compile(
    r"(?<!\!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)|(?:href|src)=\"([^\"]+)\"",
    re.M,
)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def markdown_files() -> list[Path]:
    return [
        REPOSITORY / "README.md",
        *sorted((REPOSITORY / "docs").glob("*.md")),
        *sorted((REPOSITORY / "dbt_project").rglob("README.md")),
    ]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return "".join(char for char in text if char.isalnum() or char in " -_").replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {github_anchor(heading) for heading in HEADING.findall(text)}


def strip_code(text: str) -> str:
    """Markdown without code (a `# comment` in a bash block is not a heading, a regex in a span not a link)."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))


def links(path: Path) -> list[str]:
    text = strip_code(path.read_text(encoding="utf-8"))
    return [next(group for group in match.groups() if group) for match in LINK.finditer(text)]


def test_the_generated_docs_and_seeds_are_what_the_generator_writes() -> None:
    for relative, text in docs.generated_files().items():
        committed = (REPOSITORY / relative).read_text(encoding="utf-8")
        assert committed == text, f"{relative} is out of date: run `.venv/bin/python -m citydw.docs`"


def test_departments_md_has_every_dataset_and_header_of_the_registry() -> None:
    text = (REPOSITORY / "docs" / "departments.md").read_text(encoding="utf-8")
    for spec in load_registry().datasets.values():
        assert f"### {spec.id} — {spec.title}" in text
        for field in spec.fields:
            assert f"`{field.field}`" in text
            if field.header:
                assert field.header in text, (spec.id, field.header)


def test_the_generator_follows_a_registry_change(tmp_path: Path) -> None:
    """A department renamed in registry/ changes docs/departments.md and the seed: the check catches drift."""
    registry = load_registry()
    drc = registry.departments["drc"]
    renamed = type(registry)([*(d for d in registry.departments.values() if d.code != "drc"),
                              drc.model_copy(update={"name": "市发展改革委"})])  # fmt: skip
    files = docs.generated_files(registry=renamed)
    assert "市发展改革委 Development and Reform Commission" in files[Path("docs/departments.md")]
    assert "drc,市发展改革委," in files[Path("dbt_project/seeds/registry/departments.csv")]
    assert files != docs.generated_files()


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_no_link_leaves_the_repository(path: Path) -> None:
    found = links(path)
    for target in found:
        assert not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I), f"{path.name}: {target} leaves the clone"
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        assert resolved.is_relative_to(REPOSITORY.resolve()), f"{path.name}: {target} points outside the repository"
        assert resolved.exists(), f"{path.name}: {target} does not exist in the repository"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{path.name}: {target}: no heading #{anchor} in {resolved.name}"


def test_the_link_check_sees_a_link_out_of_the_clone(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("See [design](../shared/DESIGN.md) and [x][ref].\n\n[ref]: https://example.org\n", encoding="utf-8")
    assert links(page) == ["../shared/DESIGN.md", "https://example.org"]
