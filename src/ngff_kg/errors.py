"""Errors raised by ngff-kg.

Every error derives from :class:`NgffKgError`; where a builtin fits, the error also derives
from it so callers can catch either (``StoreError`` is an ``OSError``, and so on).
"""

from __future__ import annotations


class NgffKgError(Exception):
    """Base class of all ngff-kg errors."""


class UsageError(NgffKgError, ValueError):
    """An argument given by the user cannot be used (bad option value, unknown parameter)."""


class SourceNotFoundError(NgffKgError, FileNotFoundError):
    """A harvest source (directory, file or CSV list) does not exist."""


class StoreError(NgffKgError, OSError):
    """The Oxigraph store cannot be opened, read or written."""


class QueryNotFoundError(NgffKgError, LookupError):
    """No query of that name exists in the query library."""


class QueryError(NgffKgError, ValueError):
    """A SPARQL query is invalid, or its parameters do not match its header."""


class TermError(QueryError):
    """A name or identifier given for an ontology term is unknown, ambiguous or of the wrong
    ontology (the message lists the candidates or close matches)."""


class ExtractionError(NgffKgError, ValueError):
    """A metadata document of one dataset cannot be read; it is reported, the run goes on."""


class FetchError(ExtractionError):
    """A remote document could not be fetched: the server kept failing or did not answer in
    time (the message names the URL and the last answer). Missing documents are not errors."""


class UnknownContextError(ExtractionError):
    """A JSON-LD document needs a remote context that is neither bundled nor provided locally."""


class MissingDependencyError(NgffKgError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require(module: str, extra: str) -> object:
    """Import an optional dependency, or say which ``ngff-kg[extra]`` to install.

    :raises MissingDependencyError: the module is not installed.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"this needs {module.partition('.')[0]}: pip install 'ngff-kg[{extra}]'"
        ) from exc
