"""The registry is parsed once per version of its files: every ingest asks for it, an edit is still seen."""

from __future__ import annotations

import shutil
from pathlib import Path

from citydw.registry import load_registry

REPO = Path(__file__).resolve().parents[2]


def test_the_registry_is_parsed_once_and_an_edit_is_seen_on_the_next_call(tmp_path):
    folder = tmp_path / "registry"
    shutil.copytree(REPO / "registry", folder)
    first = load_registry(folder)
    assert load_registry(folder) is first

    drc = folder / "drc.yaml"
    drc.write_text(drc.read_text(encoding="utf-8").replace("major_projects", "key_projects"), encoding="utf-8")
    edited = load_registry(folder)
    assert edited is not first
    assert "drc.key_projects" in edited.datasets and "drc.major_projects" not in edited.datasets

    (folder / "water.yaml").unlink()
    assert not any(spec.department == "water" for spec in load_registry(folder).datasets.values())
