"""Only terms Oxigraph accepts leave the term builders (checked against pyoxigraph itself)."""

from __future__ import annotations

import math

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from ngff_kg import rdf
from ngff_kg.vocab import XSD_DOUBLE

_P = "<http://example.org/p>"
_S = "<http://example.org/s>"


def parses(line: str) -> bool:
    """Whether Oxigraph reads ``line`` as one N-Triples triple."""
    try:
        data = line.encode("utf-8")
    except UnicodeEncodeError:
        return False
    try:
        return len(list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))) == 1
    except SyntaxError:
        return False


def oxigraph_accepts_iri(value: str) -> bool:
    return parses(f"<{value}> {_P} {_S} .\n")


#: Oxigraph before 0.5.13 takes private-use subtags of more than 8 characters (``x-123456789``),
#: which BCP 47 does not: there our check is the stricter one, which is safe.
OXIGRAPH_CHECKS_PRIVATE_USE_LENGTH = tuple(map(int, ox.__version__.split(".")[:3])) >= (0, 5, 13)


def oxigraph_accepts_language(tag: str) -> bool:
    return parses(f'{_S} {_P} "x"@{tag} .\n')


# IRI-ish text: parts drawn from the characters that matter to the grammar
_IRI_ALPHABET = st.sampled_from(
    [
        *"aZ09-._~!$&'()*+,;=:@/?#[]%% <>\"{}|^`\\vV",
        "%20",
        "%zz",
        "%A",
        "\u00e9",
        "\ue000",
        "\ufffe",
        "\U0001f600",
        "\x7f",
        "\ud800",
        "\n",
    ],
)
_IRI_LIKE = st.builds(
    lambda scheme, body: scheme + body,
    st.sampled_from(["http://", "https://", "a:", "urn:x:", "file:///", "x://", "", "1a:", "h p:"]),
    st.lists(_IRI_ALPHABET, max_size=30).map("".join),
)
_HOSTS = st.sampled_from(
    ["[::1]", "[::1", "[1:2]", "[v1.x]", "[vz.x]", "[::ffff:1.2.3.4]", "h:80", "h:x", "a@b@c", "h:"]
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_IRI_LIKE, st.text(max_size=40), _HOSTS.map(lambda h: f"http://{h}/p")))
@example("http://[::1")
@example("http://%zz")
@example("http://h/p?q#f#g")
@example("x:\ue000")
@example("x:?\ue000")
def test_iri_validity_agrees_with_oxigraph(value: str) -> None:
    assert rdf.iri_is_valid(value) == oxigraph_accepts_iri(value)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_IRI_LIKE, st.text(max_size=40), _HOSTS.map(lambda h: f"http://{h}/p")))
def test_whatever_iri_goes_in_what_comes_out_parses(value: str) -> None:
    try:
        term = rdf.iri(value)
    except rdf.InvalidTermError:
        # only values without a scheme are refused: they are relative references
        assert rdf._SCHEME.match(rdf.clean_text(value)) is None
        return
    assert parses(f"{term} {_P} {_S} .\n"), term
    if rdf.iri_is_valid(value):
        assert term == f"<{value}>"  # valid IRIs are never changed


def test_repairs_are_reported() -> None:
    with rdf.collect_repairs() as repairs:
        assert rdf.iri("http://%zz") == "<http://%25zz>"
        assert rdf.iri("https://example.org/ok") == "<https://example.org/ok>"
        assert rdf.literal("x", language="en--us") == '"x"'
        assert rdf.literal("a\ud800b") == '"a\ufffdb"'
    assert [r[0] for r in repairs] == ["invalid-iri", "invalid-language-tag", "invalid-string"]
    assert repairs[0] == ("invalid-iri", "http://%zz", "<http://%25zz>")


_SUBTAG = st.text("aZx0-9i", min_size=1, max_size=9)
_TAGS = st.one_of(
    st.lists(_SUBTAG, min_size=1, max_size=6).map("-".join),
    st.from_regex(rdf._LANGTAG, fullmatch=True),
    st.text(max_size=12),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(_TAGS)
@example("en--us")
@example("en-us-x")
@example("i-klingon")
@example("sgn-be-fr")
@example("abcdefghi")
def test_language_tags_agree_with_oxigraph(tag: str) -> None:
    if not tag or not tag.replace("-", "").isascii() or not tag.replace("-", "").isalnum():
        # outside the N-Triples LANGTAG token: our check must refuse it too
        assert not rdf.language_is_valid(tag) or oxigraph_accepts_language(tag)
        return
    if rdf.language_is_valid(tag):  # whatever we write, the store takes
        assert oxigraph_accepts_language(tag)
    elif OXIGRAPH_CHECKS_PRIVATE_USE_LENGTH:
        assert not oxigraph_accepts_language(tag)


@settings(max_examples=500)
@given(st.text(), _TAGS)
def test_whatever_literal_goes_in_what_comes_out_parses(text: str, tag: str) -> None:
    assert parses(f"{_S} {_P} {rdf.literal(text)} .\n")
    assert parses(f"{_S} {_P} {rdf.literal(text, language=tag)} .\n")
    assert parses(f"{_S} {_P} {rdf.literal(text, datatype='http://example.org/%zz t')} .\n")


@given(st.floats(allow_nan=True, allow_infinity=True))
@example(1e999)
@example(5e-324)
def test_doubles_are_finite_and_exact(value: float) -> None:
    if not math.isfinite(value):
        with pytest.raises(rdf.InvalidTermError):
            rdf.double(value)
        return
    term = rdf.double(value)
    (triple,) = ox.parse(f"{_S} {_P} {term} .\n".encode(), format=ox.RdfFormat.N_TRIPLES)
    assert triple.object.datatype.value == XSD_DOUBLE
    # the canonical form of JSON-LD to RDF, as pyld writes it
    quads = jsonld.to_rdf(
        {"@id": "http://example.org/s", "http://example.org/p": value},
        {"format": "application/n-quads"},
    )
    if not value.is_integer():
        assert f'"{triple.object.value}"' in quads


@given(st.integers())
def test_integers_of_any_size(value: int) -> None:
    (triple,) = ox.parse(
        f"{_S} {_P} {rdf.integer(value)} .\n".encode(), format=ox.RdfFormat.N_TRIPLES
    )
    assert int(triple.object.value) == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_unwrap_literal_undoes_what_literal_escapes(text: str) -> None:
    """Every escape undone once, in one pass: a backslash before an ``n`` in the text stays a
    backslash and an ``n`` (the former chain of replacements made it a line feed)."""
    assert rdf.unwrap_literal(rdf.literal(text)) == text
    assert rdf.unwrap_literal(rdf.literal("C:\\new\\table")) == "C:\\new\\table"
