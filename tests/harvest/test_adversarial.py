"""The adversarial kit writes every kind it names, the same bytes for the same seed, and each
bad input is refused by the part of ngff-kg that reads it, with a clean error."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from adversarial import KINDS, generate

from ngff_kg import jsonio
from ngff_kg.errors import ExtractionError
from ngff_kg.extract.samples import parse_sample_list, read_sample_list
from ngff_kg.limits import read_regular_file


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        info = path.lstat()
        h.update(str(path.relative_to(directory)).encode())
        if stat.S_ISREG(info.st_mode):
            h.update(path.read_bytes())
        elif stat.S_ISLNK(info.st_mode):
            h.update(os.readlink(path).replace(str(directory), "").encode())
    return h.hexdigest()


def test_every_kind_is_produced_deterministically(tmp_path: Path) -> None:
    assert len(KINDS) >= 40
    first = generate(tmp_path / "a", seed=3)
    second = generate(tmp_path / "b", seed=3)
    assert set(first) == set(KINDS)
    for name, directory in first.items():
        assert any(True for _ in directory.rglob("*")), f"{name} wrote nothing"
        assert _digest(directory) == _digest(second[name]), name
    other = generate(tmp_path / "c", seed=4)
    assert _digest(first["zarr-wrong-type"]) != _digest(other["zarr-wrong-type"]) or _digest(
        first["zarr-truncated"]
    ) != _digest(other["zarr-truncated"])


def test_each_hostile_document_is_refused_cleanly(tmp_path: Path) -> None:
    made = generate(tmp_path, seed=0)
    for name, directory in made.items():
        for path in sorted(directory.rglob("*")):
            if path.name not in ("zarr.json", "ro-crate-metadata.json") and path.suffix != ".csv":
                continue
            try:
                if path.suffix == ".csv":
                    parse_sample_list(read_sample_list(path))
                else:
                    jsonio.loads(read_regular_file(path))
            except (ExtractionError, ValueError, FileNotFoundError):
                pass  # a clean, reportable refusal
            except Exception as exc:
                pytest.fail(f"{name}: {path.name} raised {type(exc).__name__}: {exc}")
