"""The query library: every file parses, documents itself, and returns its declared columns."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from ngff_kg import Catalog, QueryError, QueryNotFoundError, library
from ngff_kg.queries import parameter_variables, parse_query, resolve_query, substitute
from ngff_kg.web.sparql import strip_strings_and_comments

LIBRARY = library()
REQUIRED = {
    "datasets-by-organism": ["organism", "label", "datasets"],
    "datasets-by-modality": ["modality", "label", "datasets"],
    "datasets-by-license": ["license", "datasets"],
    "datasets-by-source": ["source", "datasets", "bytes"],
    "missing-metadata": ["field", "datasets"],
    "find-datasets": ["dataset"],
    "plates": None,
    "channels": None,
    "axes-units": None,
    "converters": None,
    "repairs": None,
    "image-summary": [
        "image",
        "dataset",
        "axes",
        "units",
        "scale",
        "levels",
        "shape",
        "dtype",
        "channels",
        "channel_labels",
    ],
    "plate-summary": ["plate", "rows", "columns", "wells", "fields"],
    "images-by-pixel-size": ["image", "dataset", "axis", "size", "unit"],
    "objectives": ["magnification", "na", "immersion", "count"],
    "channels-by-wavelength": None,
    "storage-layout": None,
    "largest-images": None,
    "vendor-metadata": ["image", "dataset", "key", "value"],
}


def test_required_queries_exist_with_their_columns() -> None:
    for name, columns in REQUIRED.items():
        assert name in LIBRARY, name
        if columns is not None:
            assert list(LIBRARY[name].columns) == columns


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_query_is_documented_and_runs(name: str, examples_catalog: Catalog) -> None:
    query = LIBRARY[name]
    assert query.title and query.description and query.columns, f"{name}: header incomplete"
    result = examples_catalog.query(name)
    assert result.columns == list(query.columns)
    # every declared parameter is used in the text, every used parameter is declared: a
    # written parameter as ?param_NAME, a variable parameter as ?NAME; no custom functions
    assert parameter_variables(query.text) == {p.name for p in query.params if not p.variable}
    assert not re.search(r"param:\w+\(", strip_strings_and_comments(query.text)), name
    for p in query.params:
        if p.variable:
            assert re.search(rf"\?{p.name}\b", query.text), f"{name}: ?{p.name} is not used"


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_query_runs_on_an_empty_store(name: str) -> None:
    result = Catalog(None).query(name)
    if name == "missing-metadata":
        assert [r["datasets"] for r in result.values()] == [0, 0, 0, 0]
    else:
        assert result.rows == []


def test_parameters_are_bound_not_pasted(examples_catalog: Catalog) -> None:
    hostile = 'x" } ; DROP ALL ; SELECT * { "'
    assert examples_catalog.query("repairs", kind=hostile).rows == []
    assert len(examples_catalog.query("find-datasets").rows) == 5


def test_parameter_errors() -> None:
    catalog = Catalog(None)
    with pytest.raises(QueryError, match="no parameter 'organsim'"):
        catalog.query("find-datasets", organsim="NCBI:txid9606")
    with pytest.raises(QueryError, match=r"no NCBITaxon term is named .mouze.*Mus musculus"):
        catalog.query("find-datasets", organism="mouze")
    with pytest.raises(QueryError, match="is an ontology term of FBbi, not of NCBITaxon"):
        catalog.query("find-datasets", organism="FBbi:00000246")
    with pytest.raises(QueryNotFoundError, match="datasets-by-organism"):
        catalog.query("datasets-by-organisms")


def test_written_parameters_are_terms_outside_strings_iris_and_comments() -> None:
    text = (
        '# param: a (string)\nSELECT * { ?s ?p "?param_a" . <http://x/?param_a> ?q $param_a '
        "FILTER(?param_a != ?param_ab) }"
    )
    assert parameter_variables(text) == {"a", "ab"}
    written = substitute(text, {"param_a": ox.Literal('x" } DROP ALL { "')})
    assert written == (
        '# param: a (string)\nSELECT * { ?s ?p "?param_a" . <http://x/?param_a> ?q '
        '"x\\" } DROP ALL { \\"" FILTER("x\\" } DROP ALL { \\"" != ?param_ab) }'
    )
    # the written text parses, and the value is one literal (checked by rdflib's parser)
    from rdflib.plugins.sparql import prepareQuery

    prepareQuery(written.split("\n", 1)[1])


def test_old_param_functions_still_work() -> None:
    text = (
        "# param: who (iri, optional): someone\nPREFIX param: <https://w3id.org/ngff-kg/param#>\n"
    )
    text += "SELECT ?x WHERE { BIND(param:who() AS ?x) }"
    assert Catalog(None).query(text, who="https://example.org/a").values() == [
        {"x": "https://example.org/a"}
    ]


def test_required_parameter() -> None:
    text = "# title: t\n# description: d\n# param: who (iri): someone\n# columns: x\n" + (
        "SELECT ?x WHERE { BIND(?param_who AS ?x) }"
    )
    catalog = Catalog(None)
    with pytest.raises(QueryError, match="needs parameter 'who'"):
        catalog.query(text)
    assert catalog.query(text, who="https://example.org/a").values() == [
        {"x": "https://example.org/a"}
    ]


def test_variable_parameters_are_substituted() -> None:
    text = (
        "# title: t\n# description: d\n# param: ?who (iri, optional): someone\n"
        "# param: min (integer, optional): at least\n# columns: who, n\n"
        "SELECT ?who ?n WHERE { VALUES (?who ?n) { (<https://example.org/a> 1) "
        "(<https://example.org/b> 2) } BIND(?param_min AS ?min) "
        "FILTER(!BOUND(?min) || ?n >= ?min) }"
    )
    query = parse_query(text)
    assert [(p.name, p.variable) for p in query.params] == [("who", True), ("min", False)]
    catalog = Catalog(None)
    assert len(catalog.query(text).rows) == 2  # not given: matched as usual
    assert catalog.query(text, who="https://example.org/b").values() == [
        {"who": "https://example.org/b", "n": 2}
    ]
    assert catalog.query(text, who="https://example.org/a", min="2").rows == []
    with pytest.raises(QueryError, match="no parameter 'whom'"):
        catalog.query(text, whom="https://example.org/a")
    # a variable parameter must be selected: Oxigraph substitutes only selected variables
    hidden = text.replace("SELECT ?who ?n", "SELECT ?n")
    with pytest.raises(QueryError, match="who"):
        catalog.query(hidden, who="https://example.org/a")


@pytest.mark.parametrize(
    "name", sorted(n for n, q in LIBRARY.items() if any(p.variable for p in q.params))
)
def test_variable_parameters_of_the_library_are_selected(name: str) -> None:
    query = LIBRARY[name]
    values = {"iri": "https://example.org/x", "string": "x", "term": "NCBITaxon:10090"}
    given = {p.name: values.get(p.type, "1") for p in query.params if p.variable}
    assert Catalog(None).query(name, given).rows == []


def test_bad_header_and_bad_sparql(tmp_path) -> None:
    with pytest.raises(QueryError, match="bad param line"):
        parse_query("# param: organism\nSELECT * {}")
    broken = tmp_path / "broken.rq"
    broken.write_text("SELECT ?x WHERE { ?x ", "utf-8")
    with pytest.raises(QueryError, match="not valid SPARQL"):
        Catalog(None).query(str(broken))
    assert resolve_query(str(broken)).name == "broken"


def test_docs_list_every_query_with_its_columns_and_parameters() -> None:
    from conftest import ROOT

    rows = {}
    for line in (ROOT / "docs" / "queries.md").read_text("utf-8").splitlines():
        match = re.match(r"^\| `([a-z0-9-]+)` \|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|$", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    for name, query in LIBRARY.items():
        assert name in rows, f"docs/queries.md's query table lacks {name}"
        columns, params = rows[name]
        names = [c.strip().split(" ")[0] for c in re.sub(r"\([^)]*\)", "", columns).split(",")]
        assert names == list(query.columns), f"docs/queries.md columns of {name}: {columns}"
        documented = set(re.findall(r"([a-z_]+)\?", params)) | set(
            re.findall(r"^([a-z_]+)(?: |$)", params.strip())
        )
        params_ok = {p.name for p in query.params} <= documented | {""}
        assert params_ok, f"docs/queries.md params of {name}"


#: queries whose ``dataset`` parameter, written into the text, chooses lookups from the
#: dataset instead of scans of every image
BRANCHED = ["image-summary", "dataset-axes", "dataset-fields"]


@pytest.mark.parametrize("name", BRANCHED)
@pytest.mark.parametrize("store", ["examples_catalog", "tree_catalog"])
def test_a_dataset_given_gives_its_rows_of_every_dataset(
    name: str, store: str, request: pytest.FixtureRequest
) -> None:
    """The two ways of a branched query give the same rows (as many of each) for each
    dataset, and none for an IRI that is no dataset."""
    catalog: Catalog = request.getfixturevalue(store)
    assert "?param_dataset" in resolve_query(name).text

    def rows(**params: str) -> list[tuple[str | None, ...]]:
        found = catalog.raw_query(resolve_query(name), params)
        return sorted(
            (tuple(None if t is None else str(t) for t in row) for row in found), key=repr
        )

    every = rows()
    column = list(resolve_query(name).columns).index("dataset")
    datasets = catalog.query("find-datasets").column("dataset")
    assert every and datasets
    for dataset in datasets:
        assert rows(dataset=dataset) == [r for r in every if r[column] == f"<{dataset}>"]
    assert rows(dataset="https://example.org/no-such-dataset/") == []
