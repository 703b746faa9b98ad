"""IRIs of the vocabularies used in the graph.

Standard vocabularies first (schema.org in its ``http://`` form, the one the RO-Crate
contexts use), then the project's own terms, each documented in ``ontologies/ngff-kg.ttl``.
"""

from __future__ import annotations

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SCHEMA = "http://schema.org/"
SCHEMA_HTTPS = "https://schema.org/"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
OBO = "http://purl.obolibrary.org/obo/"
NCBITAXON = OBO + "NCBITaxon_"
FBBI = OBO + "FBbi_"
EDAM = "http://edamontology.org/"
OBO_IN_OWL = "http://www.geneontology.org/formats/oboInOwl#"
NCBITAXON_RANK = OBO + "ncbitaxon#has_rank"

#: The project's own vocabulary namespace (see ontologies/ngff-kg.ttl).
NKG = "https://w3id.org/ngff-kg/vocab#"
#: Named graphs that are not dataset graphs live under this prefix.
NKG_GRAPH = "https://w3id.org/ngff-kg/graph/"

RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"
XSD_BOOLEAN = XSD + "boolean"
XSD_DATETIME = XSD + "dateTime"

#: Classes used by the challenge profile for its entities.
OBI_IMAGING_ASSAY = OBO + "OBI_0000185"
OBI_SPECIMEN = OBO + "OBI_0100051"
OBI_ORGANISM_SPECIMEN = OBO + "OBI_0002648"
HSO_SAMPLED_SPECIMEN = OBO + "HSO_0000308"

#: Graph holding the shared descriptions of repairs (one node per distinct repair).
REPAIRS_GRAPH = NKG_GRAPH + "repairs"
#: Graph holding one node per harvest run.
RUNS_GRAPH = NKG_GRAPH + "runs"
#: Graph holding the project vocabulary; ontology slims get ONTOLOGY_GRAPH + name.
ONTOLOGY_GRAPH = NKG_GRAPH + "ontology/"
#: Graph holding ``nkg:subClassOfOrSelf``, the materialized hierarchy of the ontology graphs.
CLOSURE_GRAPH = NKG_GRAPH + "closure"
