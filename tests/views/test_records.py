"""What a dataset page shows of the harvesting machine: its metadata file, not its paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from ngff_kg.views.records import shown_source


@pytest.mark.parametrize(
    ("dataset", "source", "shown"),
    [
        # a bioformats2raw root whose IRI is percent-encoded, metadata one level down
        (
            "https://h.org/a%20b/IMG%201.ome.zarr/",
            "file:///srv/corpus/h.org/a%20b/IMG%201.ome.zarr/OME/METADATA.ome.xml",
            "OME/METADATA.ome.xml",
        ),
        ("https://h.org/x.zarr/", "file:///srv/h.org/x.zarr/zarr.json", "zarr.json"),
        # an OME-XML file is a dataset of its own
        ("https://h.org/d/img.ome.xml", "file:///srv/h.org/d/img.ome.xml", "img.ome.xml"),
        # without a base URL the dataset is a file:// IRI too: nothing to hide
        ("file:///srv/x.zarr/", "file:///srv/x.zarr/zarr.json", "file:///srv/x.zarr/zarr.json"),
        # a remote harvest records the URL it read
        (
            "https://h.org/x.zarr/",
            "https://h.org/x.zarr/zarr.json",
            "https://h.org/x.zarr/zarr.json",
        ),
    ],
)
def test_local_metadata_files_are_shown_relative_to_the_dataset(
    dataset: str, source: str, shown: str
) -> None:
    assert shown_source(dataset, source) == shown
    if not shown.startswith(("file:", "https:")):  # the relative path names the same file
        assert source.endswith("/" + Path(shown).as_posix().replace(" ", "%20"))
