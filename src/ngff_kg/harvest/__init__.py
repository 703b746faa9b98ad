"""Harvest: sources → extractors → store.

* :mod:`~ngff_kg.harvest.run`: the :class:`Harvester` (walk sources, schedule, report);
* :mod:`~ngff_kg.harvest.options`: :class:`HarvestOptions` and :class:`HarvestReport`;
* :mod:`~ngff_kg.harvest.state`: sources, the state of a run, incremental state and pruning;
* :mod:`~ngff_kg.harvest.lists`: CSV sample lists;
* :mod:`~ngff_kg.harvest.jobs`: dataset jobs (local, remote, Dask workers) and where they run;
* :mod:`~ngff_kg.harvest.dataset`: one dataset's graph, each part extracted on its own.
"""

from __future__ import annotations

from ngff_kg.harvest.dataset import DatasetOutcome, StageError, process_omexml_file, process_root
from ngff_kg.harvest.jobs import JobSettings, extract_found, extract_url, process_fetcher
from ngff_kg.harvest.options import HarvestOptions, HarvestReport
from ngff_kg.harvest.run import Harvester
from ngff_kg.reports import Problem

__all__ = [
    "DatasetOutcome",
    "HarvestOptions",
    "HarvestReport",
    "Harvester",
    "JobSettings",
    "Problem",
    "StageError",
    "extract_found",
    "extract_url",
    "process_fetcher",
    "process_omexml_file",
    "process_root",
]
