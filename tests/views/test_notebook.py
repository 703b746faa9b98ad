"""The notebook API: named queries with parameters as pandas DataFrames."""

from __future__ import annotations

import json
import sys

import pyoxigraph as ox
import pytest
from conftest import EXAMPLES

from ngff_kg import Catalog
from ngff_kg.errors import MissingDependencyError, QueryError

pandas = pytest.importorskip("pandas", reason="the notebook extra (pandas) is not installed")


def test_named_query_with_parameters_as_a_dataframe(examples_catalog: Catalog) -> None:
    frame = examples_catalog.dataframe("datasets-by-organism")
    assert list(frame.columns) == ["organism", "label", "datasets"]
    assert frame["datasets"].dtype.kind == "i" and frame["datasets"].sum() == 4
    assert frame.to_dict("records") == examples_catalog.query("datasets-by-organism").values()
    mice = examples_catalog.dataframe("find-datasets", organism="NCBI:txid10090")
    assert mice["dataset"].tolist() == [
        "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"
    ]
    empty = examples_catalog.dataframe("find-datasets", {"organism": "NCBITaxon:9913"})
    assert list(empty.columns) == ["dataset"] and empty.empty


def test_without_pandas_the_error_names_the_extra(
    examples_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(MissingDependencyError, match=r"ngff-kg\[notebook\]"):
        examples_catalog.dataframe("kinds")
    with pytest.raises(ImportError):  # it is an ImportError too
        examples_catalog.query("kinds").to_dataframe()


MOUSE = EXAMPLES / "data.example.org/Example Lab/images/mouse-brain.ome.zarr"
MOUSE_IRI = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"


def test_joined_lists_are_lists_and_counts_with_gaps_stay_integers(
    examples_catalog: Catalog,
) -> None:
    frame = examples_catalog.dataframe("image-summary")
    mouse = frame[frame["image"] == MOUSE_IRI].iloc[0]
    group = json.loads((MOUSE / "zarr.json").read_text("utf-8"))["attributes"]["ome"]
    multiscale = group["multiscales"][0]
    level0 = json.loads((MOUSE / "0" / "zarr.json").read_text("utf-8"))
    assert mouse["shape"] == level0["shape"]
    assert mouse["axes"] == [a["name"] for a in multiscale["axes"]]
    assert mouse["units"] == [a.get("unit") for a in multiscale["axes"]]
    assert mouse["scale"] == multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert mouse["channel_labels"] == [c["label"] for c in group["omero"]["channels"]]
    # some images have no omero channels: the count column keeps integers, with <NA>
    channels = frame["channels"]
    assert str(channels.dtype) == "Int64" and channels.isna().any()
    assert channels[frame["image"] == MOUSE_IRI].iloc[0] == len(group["omero"]["channels"])
    assert frame["scale"].map(lambda s: all(isinstance(v, float) for v in s)).all()


def test_parameters_take_python_values(examples_catalog: Catalog) -> None:
    as_text = examples_catalog.dataframe("images-by-pixel-size", max="0.3")
    as_float = examples_catalog.dataframe("images-by-pixel-size", max=0.3)
    columns = list(as_text.columns)  # ties of the ORDER BY come in any order
    assert not as_float.empty and as_float.sort_values(columns).reset_index(drop=True).equals(
        as_text.sort_values(columns).reset_index(drop=True)
    )
    assert str(as_float["size"].dtype) == "float64" and (as_float["size"] <= 0.3).all()
    everything = examples_catalog.dataframe("images-by-pixel-size")
    assert len(everything) > len(as_float)  # the filter did something
    assert examples_catalog.query("find-datasets", organism=10090).values() == (
        examples_catalog.query("find-datasets", organism="NCBITaxon:10090").values()
    )
    assert examples_catalog.query("find-datasets", organism=10090).rows
    node = examples_catalog.query("dataset-fields", dataset=ox.NamedNode(MOUSE_IRI)).rows
    text = examples_catalog.query("dataset-fields", dataset=MOUSE_IRI).rows
    assert node and sorted(map(str, node)) == sorted(map(str, text))  # rows in no set order
    with pytest.raises(QueryError, match="max=True"):
        examples_catalog.query("images-by-pixel-size", max=True)
    with pytest.raises(QueryError, match="cannot be a list"):
        examples_catalog.query("images-by-pixel-size", max=[1])
