"""RO-Crate validation with roc-validator (``pip install 'ngff-kg[validate]'``), offline.

roc-validator fetches every JSON-LD context it meets over HTTP, through one ``requests``
session backed by a ``requests_cache`` SQLite cache; in its *offline* mode it answers only
from that cache (a miss is reported as a skipped check, never fetched). :class:`CrateValidator`
runs it in offline mode with a private cache that is filled, before any validation, with the
context documents ngff-kg bundles (and those given with ``--contexts``), stored as the HTTP
responses their URLs would give. Nothing is fetched from the network, no roc-validator code
is patched. A resource that is not bundled is a cache miss, which fails the check needing it.

The crate directory is validated as a whole (not in roc-validator's metadata-only mode, which
skips the checks of the metadata file itself: JSON-LD format, context, undefined terms).

>>> with CrateValidator() as validator:                       # doctest: +SKIP
...     outcome = validator.validate("path/to/dataset.ome.zarr")
...     outcome.passed, outcome.issues
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ngff_kg.errors import MissingDependencyError
from ngff_kg.normalize.jsonld import ContextRegistry

#: The profile of the RO-Crate 1.1 metadata checks.
RO_CRATE_11 = "ro-crate-1.1"


@dataclass(frozen=True)
class Issue:
    """One failed check: its identifier, severity and message."""

    check: str
    severity: str
    message: str


@dataclass
class ValidationOutcome:
    """The verdict on one crate and the checks that failed."""

    passed: bool
    issues: list[Issue] = field(default_factory=list)


class CrateValidator:
    """roc-validator's checks of one profile at one severity, run offline.

    :param profile: a roc-validator profile identifier (default ``ro-crate-1.1``).
    :param severity: ``REQUIRED`` (MUST checks), ``RECOMMENDED`` or ``OPTIONAL``.
    :param registry: where the context documents come from (default: the bundled ones).
    :raises MissingDependencyError: roc-validator is not installed.
    """

    def __init__(
        self,
        profile: str = RO_CRATE_11,
        severity: str = "REQUIRED",
        registry: ContextRegistry | None = None,
    ) -> None:
        try:
            from rocrate_validator import services
            from rocrate_validator.models import Severity, ValidationSettings
            from rocrate_validator.utils.http import HttpRequester
        except ImportError as exc:
            raise MissingDependencyError(
                "validation needs roc-validator: pip install 'ngff-kg[validate]'"
            ) from exc
        self._services = services
        self._settings_class = ValidationSettings
        self.profile = profile
        self.severity = Severity[severity]
        self._dir = tempfile.mkdtemp(prefix="ngff-kg-validate-")
        self._cache_path = Path(self._dir) / "http-cache"
        # creating settings in offline mode sets up the cached session on this cache path
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._settings(Path(self._dir))
        self._requester = HttpRequester()
        self._fill_cache(registry or ContextRegistry())

    def _settings(self, crate: Path) -> Any:
        return self._settings_class(
            rocrate_uri=str(crate),
            profile_identifier=self.profile,
            requirement_severity=self.severity,
            offline=True,
            cache_path=self._cache_path,
        )

    def _fill_cache(self, registry: ContextRegistry) -> None:
        """Store each context document as the HTTP response of its URL (https and http)."""
        import io

        import requests
        from urllib3 import HTTPResponse

        cache = self._requester.session.cache
        headers = {"Content-Type": "application/ld+json"}
        for key in registry.urls():
            data = json.dumps(registry.document(key)).encode("utf-8")
            for scheme in ("https://", "http://"):
                url = scheme + key
                response = requests.Response()
                response.status_code = 200
                response.reason = "OK"
                response._content = data
                response.headers.update(headers)
                response.encoding = "utf-8"
                response.url = url
                response.request = requests.Request("GET", url).prepare()
                response.raw = HTTPResponse(
                    body=io.BytesIO(data),
                    headers=headers,
                    status=200,
                    reason="OK",
                    preload_content=False,
                    request_url=url,
                )
                cache.save_response(response)

    def validate(self, crate_dir: str | Path) -> ValidationOutcome:
        """Validate the crate in ``crate_dir`` (its ``ro-crate-metadata.json``)."""
        with warnings.catch_warnings():
            # rdflib and pyshacl deprecation warnings say nothing about the crate
            warnings.simplefilter("ignore", DeprecationWarning)
            result = self._services.validate(self._settings(Path(crate_dir)))
        issues = [
            Issue(
                issue.check.identifier if issue.check is not None else "",
                issue.severity.name,
                str(issue.message),
            )
            for issue in result.get_issues()
        ]
        return ValidationOutcome(bool(result.passed()), issues)

    def close(self) -> None:
        """Remove the private HTTP cache."""
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> CrateValidator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
