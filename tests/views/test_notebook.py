"""The notebook API: named queries with parameters as pandas DataFrames."""

from __future__ import annotations

import sys

import pytest

from ngff_kg import Catalog
from ngff_kg.errors import MissingDependencyError

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
