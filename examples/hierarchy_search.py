"""Hierarchy-aware search: datasets of any mammal imaged by any kind of fluorescence microscopy.

"Mammalia" and "fluorescence microscopy" are broad terms: no dataset is tagged with them, but
mouse and human are mammals, and confocal microscopy is fluorescence microscopy. The ontology
slims in the store know this (rdfs:subClassOf), so a search for the broad terms finds the
datasets tagged with narrower ones. Shown two ways: with the catalogue's facets (what the web
page uses), and with a SPARQL property path.

    python examples/hierarchy_search.py [--store DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ngff_kg import Catalog
from ngff_kg.views.facets import FacetIndex
from ngff_kg.views.records import read_hierarchies, read_records

EXAMPLES = Path(__file__).resolve().parent / "metadata"
MAMMALIA = "http://purl.obolibrary.org/obo/NCBITaxon_40674"
FLUORESCENCE = "http://purl.obolibrary.org/obo/FBbi_00000246"

SPARQL = """# param: organism (iri): a broad organism term
# param: modality (iri): a broad imaging-method term
PREFIX schema: <http://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>
PREFIX param: <https://w3id.org/ngff-kg/param#>
SELECT DISTINCT ?dataset ?organism ?modality WHERE {
  ?dataset a nkg:OmeZarrDataset ;
           schema:taxonomicRange ?organism ;
           schema:measurementTechnique ?modality .
  ?organism rdfs:subClassOf* ?broadOrganism .
  ?modality rdfs:subClassOf* ?broadModality .
  FILTER(?broadOrganism = param:organism() && ?broadModality = param:modality())
}
ORDER BY ?dataset
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an existing store (default: the examples)")
    parser.add_argument("--out", type=Path, help="unused; accepted like the other examples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.store:
            catalog = Catalog(args.store, read_only=True)
        else:
            catalog = Catalog(Path(scratch) / "store")
            catalog.harvest([EXAMPLES], base_url="https://")
        with catalog:
            hierarchies = read_hierarchies(catalog)
            index = FacetIndex(read_records(catalog), hierarchies)
            found = index.search({"organism": [MAMMALIA], "modality": [FLUORESCENCE]}, limit=1000)
            print(f"Facets: {found.total} datasets of a mammal by fluorescence microscopy")
            for record in found.records:
                organisms = ", ".join(
                    hierarchies["organism"].label(t) or t for t in record.organisms
                )
                methods = ", ".join(
                    hierarchies["modality"].label(t) or t for t in record.modalities
                )
                print(f"  {record.url}\n    {organisms}; {methods}")
            rows = catalog.query(SPARQL, organism=MAMMALIA, modality=FLUORESCENCE).values()
            print(f"SPARQL (rdfs:subClassOf*): {len({r['dataset'] for r in rows})} datasets")
            assert {r["dataset"] for r in rows} == {r.url for r in found.records}


if __name__ == "__main__":
    main()
