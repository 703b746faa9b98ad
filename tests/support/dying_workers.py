"""Jobs for worker processes that end abruptly, as a killed or crashing worker would (they
are module-level so that worker processes can import them)."""

from __future__ import annotations

import os

from ngff_kg.harvest.dataset import DatasetOutcome
from ngff_kg.harvest.processes import Job, extract_roots

MARK = "kill-me"


def exit_on_mark(job: Job) -> list[DatasetOutcome]:
    """Ends the worker when the job holds a root whose path has :data:`MARK` in it."""
    if any(MARK in found.path for found, _ in job):
        os._exit(3)
    return extract_roots(job)


def exit_at_once() -> bool:
    """Ends the worker at once, as a worker that cannot start (the pool's first job)."""
    os._exit(3)
