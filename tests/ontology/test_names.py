"""Everyday names resolve to the ontology terms people mean (issue: search that knows names).

The expected terms are read from the shipped ontology files with pyoxigraph (labels and
synonyms as the ontologies give them), not from the index under test.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from ngff_kg._resources import resource_dir
from ngff_kg.cli import app
from ngff_kg.ontology.index import OntologyIndex

LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OBO_IN_OWL = "http://www.geneontology.org/formats/oboInOwl#"
SYNONYMS = (OBO_IN_OWL + "hasExactSynonym", OBO_IN_OWL + "hasRelatedSynonym")


def _names() -> dict[str, set[str]]:
    """Term IRI → its label and synonyms, from the ontology files."""
    names: dict[str, set[str]] = {}
    for path in resource_dir("ontologies").iterdir():
        if path.name.endswith(".ttl"):
            for t in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE):
                if t.predicate.value in (LABEL, *SYNONYMS) and isinstance(t.object, ox.Literal):
                    names.setdefault(t.subject.value, set()).add(t.object.value)
    return names


@pytest.fixture(scope="module")
def index() -> OntologyIndex:
    return OntologyIndex.from_files()


@pytest.mark.parametrize(
    ("typed", "ontology", "meant"),
    [
        # spelling variants of a name the ontology gives with a generic last word
        ("brightfield", "fbbi", "bright-field microscopy"),
        ("bright field", "fbbi", "bright-field microscopy"),
        ("Bright-Field", "fbbi", "bright-field microscopy"),
        ("confocal", "fbbi", "confocal microscopy"),
        ("fluorescence", "fbbi", "fluorescence microscopy"),
        ("lightsheet", "fbbi", "light sheet microscopy"),
        ("light sheet", "fbbi", "light sheet microscopy"),
        ("light-sheet", "fbbi", "light sheet microscopy"),
        # common and scientific names, singular and plural
        ("mouse", "ncbitaxon", "mouse"),
        ("Mus musculus", "ncbitaxon", "Mus musculus"),
        ("house mice", "ncbitaxon", "house mouse"),
        ("mammal", "ncbitaxon", "mammals"),
        ("mammals", "ncbitaxon", "mammals"),
        ("zebrafish", "ncbitaxon", "zebrafish"),
    ],
)
def test_everyday_names_resolve(index: OntologyIndex, typed: str, ontology: str, meant: str):
    term = index.resolve(typed, ontology)
    assert meant in _names()[term.iri], (typed, term.curie, term.label)


def test_a_name_that_is_nothing_does_not_resolve(index: OntologyIndex):
    # a misspelt name does not resolve to some other term
    with pytest.raises(Exception, match="no FBbi term"):
        index.resolve("brightfieldz", "fbbi")


def test_terms_command_finds_everyday_names():
    runner = CliRunner()
    for typed, curie in (("brightfield", "FBbi:00000243"), ("lightsheet", "FBbi:00000369")):
        result = runner.invoke(app, ["terms", typed, "--format", "csv"])
        assert result.exit_code == 0, result.output
        assert curie in result.output.splitlines()[1], result.output


def test_modality_parameter_takes_an_everyday_name(tmp_path):
    from ngff_kg import Catalog

    with Catalog(None) as catalog:
        a = catalog.query("find-datasets", modality="brightfield").rows
        b = catalog.query("find-datasets", modality="FBbi:00000243").rows
    assert a == b
