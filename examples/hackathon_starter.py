"""Hackathon starter: the most common organisms and imaging methods, and a bar chart.

Harvests the bundled example metadata into a temporary store (or opens --store), prints the
top organisms and imaging methods as pandas tables, and saves a bar chart as a PNG.

    pip install 'ngff-kg[notebook]'
    python examples/hackathon_starter.py --out results/
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw to files; no display needed
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from ngff_kg import Catalog

EXAMPLES = Path(__file__).resolve().parent / "metadata"


def open_catalog(store: Path | None, scratch: Path) -> Catalog:
    """The given store, or the bundled examples harvested into a scratch store."""
    if store is not None:
        return Catalog(store, read_only=True)
    catalog = Catalog(scratch / "store")
    report = catalog.harvest([EXAMPLES], base_url="https://")
    print(f"harvested {report.datasets_harvested} example datasets into {scratch / 'store'}")
    return catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an existing store (default: the examples)")
    parser.add_argument("--out", type=Path, help="folder for the chart (default: a temp dir)")
    parser.add_argument("--top", type=int, default=10, help="how many rows to show")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="ngff-kg-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, open_catalog(args.store, Path(scratch)) as kg:
        organisms = kg.dataframe("datasets-by-organism").head(args.top)
        modalities = kg.dataframe("datasets-by-modality").head(args.top)
    print("\nTop organisms\n" + organisms[["label", "datasets"]].to_string(index=False))
    print("\nTop imaging methods\n" + modalities[["label", "datasets"]].to_string(index=False))

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for axes, table, title in (
        (left, organisms, "Organism"),
        (right, modalities, "Imaging method"),
    ):
        names = table["label"].fillna(table.iloc[:, 0])  # the IRI where the ontology has no label
        axes.barh(names[::-1], table["datasets"][::-1], color="#0b6bcb")
        axes.set_title(f"Datasets by {title.lower()}")
        axes.set_xlabel("datasets")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    chart = out / "datasets-by-organism-and-modality.png"
    figure.savefig(chart, dpi=120)
    print(f"\nchart: {chart}")


if __name__ == "__main__":
    main()
