"""Thumbnails: a small PNG of each dataset, rendered from its pixels, stored beside the store.

A plane is read with :func:`ngff_kg.sources.pixels.read_plane` (middle z, first t, the smallest
level that is big enough and fits the byte budget) and rendered like OMERO does: each active
channel is scaled between its ``window.start`` and ``window.end``, tinted by its ``color`` and
the channels are added up (clipped at white). A channel without OMERO settings is scaled
between its 0.5th and 99.5th percentiles and gets a default colour (grey when it is alone).

Each PNG is ``STORE/thumbnails/<hash of the dataset IRI>.png``; the graph records it as
``<dataset> nkg:thumbnail "thumbnails/<hash>.png"`` in the graph :data:`THUMBNAILS_GRAPH`, so
that a new harvest of the dataset (which replaces the dataset's own graph) keeps it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ngff_kg import rdf
from ngff_kg.errors import UsageError, require
from ngff_kg.queries import QuerySource
from ngff_kg.reports import Problem
from ngff_kg.sources.pixels import MAX_BYTES, PixelError, Plane, read_plane
from ngff_kg.sources.walk import FoundRoot, WalkError, walk
from ngff_kg.urls import UrlMapper, normalize_url
from ngff_kg.vocab import NKG, NKG_GRAPH

#: The named graph of the ``nkg:thumbnail`` triples.
THUMBNAILS_GRAPH = NKG_GRAPH + "thumbnails"
THUMBNAIL = NKG + "thumbnail"
#: Directory of the PNG files, inside the store directory.
DIRECTORY = "thumbnails"
#: Default longest side of a thumbnail, in pixels.
SIZE = 256
#: Colours of channels without OMERO settings (RGB), in channel order.
DEFAULT_COLORS = ("FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00")


def thumbnail_name(iri: str) -> str:
    """The PNG's path relative to the store directory.

    >>> thumbnail_name("https://a.org/x.zarr/")
    'thumbnails/a7e1e31b80d32b2cba6872af3a62c4f4.png'
    """
    digest = hashlib.sha256(iri.encode("utf-8")).hexdigest()[:32]
    return f"{DIRECTORY}/{digest}.png"


def parse_color(text: Any, fallback: str) -> tuple[float, float, float]:
    """An OMERO ``color`` (``RRGGBB`` hex) as RGB fractions; ``fallback`` when not one.

    >>> parse_color("FF8000", "FFFFFF")
    (1.0, 0.5019607843137255, 0.0)
    """
    value = str(text).lstrip("#") if isinstance(text, str) else ""
    if len(value) != 6:
        value = fallback
    try:
        red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
        return red, green, blue
    except ValueError:
        return parse_color(fallback, "FFFFFF")


def render(plane: Plane, size: int = SIZE) -> Any:
    """The plane as an RGB ``PIL.Image`` whose longest side is at most ``size`` pixels."""
    np: Any = require("numpy", "thumbnails")
    image_module: Any = require("PIL.Image", "thumbnails")
    pixels = plane.pixels
    count = pixels.shape[0]
    settings = plane.omero.get("channels")
    channels = settings if isinstance(settings, list) and len(settings) == count else []
    chosen = [i for i, c in enumerate(channels) if isinstance(c, dict) and c.get("active", True)]
    if not channels:
        chosen = list(range(count))
    elif not chosen:
        chosen = [0]
    out = np.zeros((*pixels.shape[1:], 3), dtype=np.float64)
    for index in chosen:
        setting = channels[index] if channels else {}
        values = np.asarray(pixels[index], dtype=np.float64)
        start, end = _window(np, setting, values)
        scaled = (
            np.clip((values - start) / (end - start), 0.0, 1.0)
            if end > start
            else ((values > start).astype(np.float64))
        )
        fallback = "FFFFFF" if count == 1 else DEFAULT_COLORS[index % len(DEFAULT_COLORS)]
        color = parse_color(setting.get("color") if channels else None, fallback)
        out += scaled[..., np.newaxis] * np.asarray(color)
    rgb = np.round(np.clip(out, 0.0, 1.0) * 255).astype(np.uint8)
    image = image_module.fromarray(rgb, mode="RGB")
    image.thumbnail((size, size), image_module.Resampling.BOX)
    return image


def _window(np: Any, setting: Any, values: Any) -> tuple[float, float]:
    window = setting.get("window") if isinstance(setting, dict) else None
    if isinstance(window, dict):
        start, end = window.get("start"), window.get("end")
        if isinstance(start, int | float) and isinstance(end, int | float):
            return float(start), float(end)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(finite, [0.5, 99.5])
    return float(low), float(high)


def png_bytes(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@dataclass
class ThumbnailReport:
    """What a thumbnails run did: rendered (IRI → PNG path), skipped (had one already) and
    problems (one per dataset that has none)."""

    rendered: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def recorded_thumbnails(source: QuerySource) -> dict[str, str]:
    """Dataset IRI → recorded PNG path (relative to the store) of every dataset with one."""
    return {dataset.value: path.value for dataset, path in source.query("dataset-thumbnails").rows}


def locations(
    sources: Iterable[str | os.PathLike[str]], base_url: str | None, datasets: Iterable[str]
) -> tuple[dict[str, str], list[Problem]]:
    """Dataset IRI → where its pixels are: the roots below local ``sources`` (their IRIs made
    as harvest makes them, with ``base_url``), or, without sources, the datasets themselves
    (``file://`` IRIs as local paths, ``http(s)://`` IRIs as they are)."""
    found: dict[str, str] = {}
    problems: list[Problem] = []
    known = set(datasets)
    if not sources:
        for iri in sorted(known):
            if iri.startswith("file://"):
                path = UrlMapper(Path("/")).path(iri)
                if path is not None:
                    found[iri] = os.fspath(path)
            elif iri.startswith(("http://", "https://")):
                found[iri] = iri
            else:
                problems.append(Problem(iri, "pixels can be read from local and HTTP(S) datasets"))
        return found, problems
    for source in sources:
        text = os.fspath(source)
        if text.startswith(("http://", "https://")):
            iri = normalize_url(text, directory=True)
            found[iri] = text
            continue
        root = Path(text)
        if not root.is_dir():
            raise UsageError(f"{text} is not a directory")
        mapper = UrlMapper(root, base_url)
        for item in walk(root):
            if isinstance(item, FoundRoot):
                found[mapper.url(item.path, directory=True)] = item.path
            elif isinstance(item, WalkError):
                problems.append(Problem(os.fspath(item.path), item.reason, "read"))
    for iri in [i for i in found if i not in known]:
        problems.append(
            Problem(iri, "not in the store: harvest it first (with the same --base-url)", "read")
        )
        del found[iri]
    return found, problems


def make_thumbnails(
    store_dir: Path,
    targets: dict[str, str],
    recorded: dict[str, str],
    add: Callable[[list[rdf.Triple]], None],
    *,
    max_bytes: int = MAX_BYTES,
    size: int = SIZE,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ThumbnailReport:
    """Render a thumbnail of each dataset in ``targets`` (IRI → location) into ``store_dir``
    and ``add`` its triple; a dataset that has one already is skipped unless ``force``.
    Every failure is a problem of the report; the others go on."""
    if size < 8 or max_bytes < 1:
        raise UsageError("--size must be at least 8 pixels and --max-mb above 0")
    report = ThumbnailReport()
    (store_dir / DIRECTORY).mkdir(parents=True, exist_ok=True)
    for done, (iri, location) in enumerate(sorted(targets.items()), start=1):
        name = thumbnail_name(iri)
        if not force and recorded.get(iri) == name and (store_dir / name).is_file():
            report.skipped.append(iri)
        else:
            try:
                image = render(read_plane(location, max_bytes, size), size)
                path = store_dir / name
                partial = path.with_name(path.name + ".part")
                partial.write_bytes(png_bytes(image))
                os.replace(partial, path)
            except PixelError as exc:
                report.problems.append(Problem(location, str(exc), "pixels"))
            except Exception as exc:  # whatever a dataset throws, the others go on
                report.problems.append(Problem(location, f"{type(exc).__name__}: {exc}", "render"))
            else:
                add([(rdf.iri(iri), rdf.iri(THUMBNAIL), rdf.literal(name))])
                report.rendered[iri] = name
        if progress is not None:
            progress(done)
    return report


__all__ = [
    "DIRECTORY",
    "SIZE",
    "THUMBNAIL",
    "THUMBNAILS_GRAPH",
    "ThumbnailReport",
    "locations",
    "make_thumbnails",
    "parse_color",
    "recorded_thumbnails",
    "render",
    "thumbnail_name",
]
