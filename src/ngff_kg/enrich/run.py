"""Enrich the crates of local datasets in place: find them, get their facts, write safely.

Facts come from a store (the dataset found by the metadata file it was harvested from, or by
its IRI under ``base_url``) or, without a store, from reading the dataset's NGFF metadata now.
A crate is replaced atomically (a temporary file in the same directory, then a rename), with
its original kept once as ``ro-crate-metadata.json.orig``. A crate that cannot be read is
reported and left as it is; nothing but the crate file (and its backup) is ever written, and
a crate that is a symbolic link is not followed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ngff_kg._version import __version__
from ngff_kg.enrich.crate import RO_CRATE, enrich_document, ontology_labels, serialize
from ngff_kg.enrich.facts import DatasetFacts, facts_from_triples, facts_in_memory
from ngff_kg.errors import ExtractionError, SourceNotFoundError, UsageError
from ngff_kg.extract.rocrate import CRATE_FILE, license_iri
from ngff_kg.normalize.jsonld import JsonLdConverter
from ngff_kg.processes import pid_alive
from ngff_kg.reports import Problem, Progress
from ngff_kg.sources.walk import FoundRoot, WalkError, walk
from ngff_kg.store.knowledge import KnowledgeStore
from ngff_kg.urls import PATH_SAFE, UrlMapper, file_url

BACKUP_SUFFIX = ".orig"

#: Receives the unified diff of each crate in a dry run: (crate path, diff text).
DiffSink = Callable[[str, str], None]


@dataclass
class EnrichReport:
    """What an enrich run did (or, in a dry run, would do). ``ok``: no crate failed."""

    dry_run: bool = False
    datasets_found: int = 0
    enriched: int = 0
    unchanged: int = 0
    created: int = 0
    backups: int = 0
    missing: list[Problem] = field(default_factory=list)  # roots without a crate
    failed: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class EnrichOptions:
    """The settings of an enrich run.

    :param base_url: URL of each target directory, as given to ``harvest``; with a store, the
        dataset IRIs are found from it instead of from the harvested file paths.
    :param dry_run: change nothing; each crate's unified diff goes to ``on_diff``.
    :param backup: keep the original beside it as ``ro-crate-metadata.json.orig``.
    :param create_license: write a minimal crate with this license (IRI or SPDX id) where a
        root has none.
    :param date_published: ``datePublished`` for roots without one (default: what the
        metadata says, see :attr:`DatasetFacts.date_published`; when nothing does, the root
        is left without one and the report has a warning).
    :param progress: called with the number of datasets done.
    :param on_diff: receives each crate's diff in a dry run.
    :param batch_size: crates written (synced, then renamed) together.
    :raises UsageError: a ``create_license`` that is no license, a ``date_published`` that is
        no ISO 8601 date, a ``batch_size`` below 1.
    """

    base_url: str | None = None
    dry_run: bool = False
    backup: bool = True
    create_license: str | None = None
    date_published: str | None = None
    progress: Progress | None = None
    on_diff: DiffSink | None = None
    batch_size: int = 500

    def __post_init__(self) -> None:
        if self.create_license is not None and self.license is None:
            raise UsageError(
                f"create_license must be a license IRI or SPDX id, got {self.create_license!r}"
            )
        if self.date_published is not None:
            try:
                dt.date.fromisoformat(self.date_published[:10])
            except ValueError:
                raise UsageError(
                    f"date_published must be an ISO 8601 date, got {self.date_published!r}"
                ) from None
        if self.batch_size < 1:
            raise UsageError(f"batch_size must be at least 1, not {self.batch_size}")

    @property
    def license(self) -> str | None:
        """The IRI of ``create_license``."""
        return license_iri(self.create_license) if self.create_license is not None else None


class Enricher:
    """Enriches the crates of the dataset roots found below some targets.

    :param store: read each dataset's facts from this store; ``None``: read them from the
        dataset's metadata now.
    :param options: the settings of the run (the defaults of :class:`EnrichOptions` otherwise).
    """

    def __init__(
        self,
        converter: JsonLdConverter | None = None,
        store: KnowledgeStore | None = None,
        options: EnrichOptions | None = None,
    ) -> None:
        options = options or EnrichOptions()
        self.options = options
        self.converter = converter or JsonLdConverter()
        self.store = store
        self.base_url = options.base_url
        self.dry_run = options.dry_run
        self.backup = options.backup
        self.license = options.license
        self.date_published = options.date_published
        self.progress = options.progress
        self.on_diff = options.on_diff
        self.batch_size = options.batch_size
        self._sources: dict[str, str] | None = None
        self._pending: list[_Change] = []

    # ---------------------------------------------------------------- run
    def enrich(self, targets: Iterable[str | os.PathLike[str]]) -> EnrichReport:
        """Enrich every dataset root at or below the targets.

        :raises UsageError: a remote target, or a target that is not a directory.
        :raises SourceNotFoundError: a target does not exist (checked before anything is done).
        """
        paths = self._check_targets(targets)
        started = time.perf_counter()
        report = EnrichReport(dry_run=self.dry_run)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        labels = ontology_labels()
        seen: set[str] = set()
        done = 0
        for target in paths:
            mapper = UrlMapper(target, self.base_url) if self.base_url else None
            for found in walk(target):
                if isinstance(found, WalkError):
                    report.warnings.append(Problem(str(found.path), found.reason))
                    continue
                if not isinstance(found, FoundRoot):
                    continue
                real = os.path.realpath(found.path)
                if real in seen:
                    continue
                seen.add(real)
                report.datasets_found += 1
                try:
                    self._one(found, mapper, report, now, labels)
                except _NotInStore as exc:
                    report.failed.append(Problem(found.path, str(exc)))
                except (ExtractionError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    reason = str(exc)
                    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
                        reason = f"invalid JSON: {exc}"
                    report.failed.append(Problem(found.path, f"{CRATE_FILE}: {reason}"))
                except OSError as exc:
                    reason = f"{exc.strerror or exc}" + (
                        f": {exc.filename}" if exc.filename else ""
                    )
                    report.failed.append(Problem(found.path, reason))
                except Exception as exc:
                    reason = f"cannot be enriched ({type(exc).__name__}: {exc})"
                    report.failed.append(Problem(found.path, f"{CRATE_FILE}: {reason}"))
                done += 1
                if self.progress is not None:
                    self.progress(done)
        self._commit(report)
        report.seconds = time.perf_counter() - started
        return report

    def _check_targets(self, targets: Iterable[str | os.PathLike[str]]) -> list[Path]:
        paths: list[Path] = []
        for target in targets:
            text = os.fspath(target)
            if "://" in text:
                raise UsageError(
                    f"remote target {text!r}: enrich works on local directories only for now"
                )
            path = Path(text)
            if not path.exists():
                raise SourceNotFoundError(f"target {path} does not exist")
            if not path.is_dir():
                raise UsageError(f"target {path} is not a directory (a dataset root or a tree)")
            paths.append(path)
        if not paths:
            raise UsageError("no target given: name a dataset root or a directory of them")
        return paths

    def _one(
        self,
        found: FoundRoot,
        mapper: UrlMapper | None,
        report: EnrichReport,
        now: dt.datetime,
        labels: dict[str, str],
    ) -> None:
        crate_path = os.path.join(found.path, CRATE_FILE)
        if not self.dry_run:
            removed = remove_leftovers(found.path)
            if removed:
                report.warnings.append(
                    Problem(
                        found.path,
                        f"removed {len(removed)} temporary file(s) left by an interrupted run",
                    )
                )
        try:
            info = os.lstat(crate_path)
        except FileNotFoundError:
            info = None
        if info is None and self.license is None:
            report.missing.append(Problem(found.path, f"no {CRATE_FILE} (not created)"))
            return
        iri, facts = self._facts(found, mapper)
        if info is None:
            assert self.license is not None  # a missing crate without a licence returned above
            doc = new_crate(os.path.basename(os.path.abspath(found.path)), self.license)
            original, mode = b"", 0o644
        else:
            if stat.S_ISLNK(info.st_mode):
                raise ExtractionError("is a symbolic link; enrich does not follow links")
            if not stat.S_ISREG(info.st_mode):
                raise ExtractionError("is not a regular file")
            with open(crate_path, "rb", opener=_no_follow) as fh:
                original = fh.read()
            doc = json.loads(original.decode("utf-8"))
            if isinstance(doc, dict) and "@context" not in doc:
                raise ExtractionError("has no @context: not a JSON-LD RO-Crate (left as it is)")
            mode = stat.S_IMODE(info.st_mode)
        result = enrich_document(
            doc,
            facts,
            dataset_iri=iri,
            converter=self.converter,
            labels=labels,
            now=now,
            date_published=self.date_published,
            tool_version=__version__,
        )
        if result.undated:
            report.warnings.append(
                Problem(
                    found.path,
                    "no datePublished (RO-Crate 1.1 requires one on the root): nothing in the "
                    "metadata says when the dataset was published; give date_published",
                )
            )
        if not result.changed and info is not None:
            report.unchanged += 1
            return
        data = serialize(result.doc)
        if self.dry_run:
            if self.on_diff is not None:
                self.on_diff(crate_path, unified_diff(crate_path, original, data))
            report.created += info is None
            report.enriched += info is not None
            return
        change = _Change(found.path, created=info is None)
        if info is None:
            change.stage(crate_path, data, mode, exclusive=True)
        else:
            backup = crate_path + BACKUP_SUFFIX
            if self.backup and not os.path.lexists(backup):
                change.keep_as(crate_path, backup, original, mode)
            change.stage(crate_path, data, mode)
        self._pending.append(change)
        if len(self._pending) >= self.batch_size:
            self._commit(report)

    def _commit(self, report: EnrichReport) -> None:
        """Make the staged files durable with one sync, then rename them into place."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        os.sync()
        for change in pending:
            try:
                change.commit()
            except OSError as exc:
                reason = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
                report.failed.append(Problem(change.dataset, f"not written: {reason}"))
                continue
            report.backups += change.backup
            report.created += change.created
            report.enriched += not change.created

    # ---------------------------------------------------------------- facts
    def _facts(self, found: FoundRoot, mapper: UrlMapper | None) -> tuple[str, DatasetFacts]:
        if mapper is not None:
            iri = mapper.url(found.path, directory=True)
        elif self.store is None:
            iri = file_url(Path(found.path), directory=True)
        else:
            source = os.path.abspath(os.path.join(found.path, found.metadata_file))
            iri = self._source_map().get("file://" + quote(source, safe=PATH_SAFE), "")
        if self.store is None:
            return iri, facts_in_memory(found, iri)
        if not iri or not self.store.has_graph(iri):
            hint = "" if mapper is not None else " or give the base_url it was harvested with"
            raise _NotInStore(
                f"not in the store at {self.store.path} (as {iri or 'its metadata file'}): "
                f"harvest it first{hint}"
            )
        return iri, facts_from_triples(iri, self.store.graph_triples(iri))

    def _source_map(self) -> dict[str, str]:
        """Metadata file URL → dataset IRI, for every dataset of the store."""
        if self._sources is None:
            assert self.store is not None
            self._sources = self.store.metadata_sources()
        return self._sources


class _NotInStore(Exception):
    """The dataset has no graph in the store the facts are read from."""


def new_crate(name: str, license: str) -> dict[str, Any]:
    """A minimal RO-Crate 1.1 for a dataset that has none (enrichment adds the rest, with
    ``datePublished`` when the metadata or the options give one)."""
    return {
        "@context": RO_CRATE + "1.1/context",
        "@graph": [
            {
                "@id": CRATE_FILE,
                "@type": "CreativeWork",
                "conformsTo": {"@id": RO_CRATE + "1.1"},
                "about": {"@id": "./"},
            },
            {
                "@id": "./",
                "@type": "Dataset",
                "name": name,
                "license": {"@id": license},
            },
        ],
    }


def unified_diff(path: str, old: bytes, new: bytes) -> str:
    """The change of one crate as a unified diff (``a/PATH`` → ``b/PATH``)."""
    old_lines = old.decode("utf-8", "replace").splitlines(keepends=True)
    new_lines = new.decode("utf-8").splitlines(keepends=True)
    if old_lines and not old_lines[-1].endswith("\n"):
        old_lines[-1] += "\n\\ No newline at end of file\n"
    name = path.lstrip("/")
    return "".join(difflib.unified_diff(old_lines, new_lines, f"a/{name}", f"b/{name}", n=3))


@dataclass
class _Change:
    """The files of one dataset written in a temporary file each, waiting to be renamed.

    Files are written beside their target (same directory, so the rename is atomic), synced
    to disk by the caller, then put in place in order: a replaced file is renamed over its
    target, a new one (``exclusive``) is linked to its name and fails if that name exists.
    Readers see the old or the new file, never a part; the backup is in place before the
    crate is replaced, and if it cannot be, the crate is not replaced.
    """

    dataset: str
    created: bool = False
    backup: bool = False
    staged: list[tuple[str, str, bool]] = field(default_factory=list)  # source, target, exclusive

    def stage(self, path: str, data: bytes, mode: int, *, exclusive: bool = False) -> None:
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(
            dir=directory,
            prefix=f".{os.path.basename(path)}{_TMP_MARK}{os.getpid()}.",
            suffix=".tmp",
        )
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)
                fh.write(data)
        except BaseException:
            self.discard()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self.staged.append((tmp, path, exclusive))

    def keep_as(self, path: str, backup: str, data: bytes, mode: int) -> None:
        """Keep the current file as ``backup``: a second name of the same file (a hard link;
        the crate is then replaced by a new file, never written into), else a copy."""
        self.backup = True
        if _hard_links_work(os.path.dirname(path) or "."):
            self.staged.append((path, backup, True))
        else:
            self.stage(backup, data, mode, exclusive=True)

    def commit(self) -> None:
        try:
            for source, path, exclusive in self.staged:
                if exclusive:
                    os.link(source, path, follow_symlinks=False)
                    if os.path.basename(source).startswith("."):
                        os.unlink(source)
                else:
                    os.replace(source, path)
        finally:
            self.discard()

    def discard(self) -> None:
        for source, _path, _exclusive in self.staged:
            if os.path.basename(source).startswith("."):  # a temporary file of ours
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(source)
        self.staged.clear()


_LINKS: dict[int, bool] = {}

#: Temporary files of enrich: ``.<target name>.ngff-kg-<pid>.<random>.tmp``. A run killed
#: between writing and renaming leaves them; the next run removes those of dead processes.
_TMP_MARK = ".ngff-kg-"
_LEFTOVER = re.compile(
    r"\.(?:ro-crate-metadata\.json(?:\.orig)?|ngff-kg-link)"
    r"\.ngff-kg-(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp"
    # files of versions before the process id was in the name
    r"|\.ro-crate-metadata\.json(?:\.orig)?\.[a-z0-9_]{8}\.tmp|\.ngff-kg-link\.[a-z0-9_]{8}\.tmp"
)


def _alive(pid: int) -> bool:
    return pid == os.getpid() or pid_alive(pid)


def remove_leftovers(directory: str) -> list[str]:
    """Remove the temporary files an interrupted enrich left in ``directory`` (those of
    processes no longer running, recognised by their names); returns their paths."""
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not name.endswith(".tmp"):
            continue
        match = _LEFTOVER.fullmatch(name)
        if match is None:
            continue
        pid = match.group("pid")
        if pid is not None and _alive(int(pid)):
            continue
        path = os.path.join(directory, name)
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
                removed.append(path)
        except OSError:
            continue
    return removed


def _hard_links_work(directory: str) -> bool:
    """Whether the file system of ``directory`` supports hard links (tried once per device)."""
    device = os.stat(directory).st_dev
    if device not in _LINKS:
        fd, probe = tempfile.mkstemp(
            dir=directory, prefix=f".ngff-kg-link{_TMP_MARK}{os.getpid()}.", suffix=".tmp"
        )
        os.close(fd)
        try:
            os.link(probe, probe + ".2")
            os.unlink(probe + ".2")
            _LINKS[device] = True
        except OSError:
            _LINKS[device] = False
        finally:
            os.unlink(probe)
    return _LINKS[device]


def atomic_write(path: str, data: bytes, mode: int = 0o644, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename or link)."""
    change = _Change(path)
    change.stage(path, data, mode, exclusive=exclusive)
    os.sync()
    change.commit()


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


def enrich_targets(
    targets: Iterable[str | os.PathLike[str]],
    options: EnrichOptions | None = None,
    *,
    store: KnowledgeStore | None = None,
    converter: JsonLdConverter | None = None,
    **settings: Any,
) -> EnrichReport:
    """Enrich the crates of the datasets below ``targets`` (see :class:`Enricher`); the
    ``settings`` are fields of :class:`EnrichOptions`, for when ``options`` is not given."""
    if options is None:
        options = EnrichOptions(**settings)
    elif settings:
        raise UsageError("give either options or settings, not both")
    return Enricher(converter, store, options).enrich(targets)
