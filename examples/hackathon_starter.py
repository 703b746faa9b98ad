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
from textwrap import fill

import matplotlib

matplotlib.use("Agg")  # draw to files; no display needed
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, NullFormatter

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

    chart = out / "datasets-by-organism-and-modality.png"
    draw_chart([("organism", organisms), ("imaging method", modalities)], chart)
    print(f"\nchart: {chart}")


def draw_chart(panels: list[tuple[str, pd.DataFrame]], chart: Path) -> None:
    """Horizontal bars, one panel above the other so that long names have room, on a log
    scale (one organism can have a thousand times the datasets of the next), each bar with
    its count written at its end."""
    rows = sum(max(len(table), 1) for _, table in panels)
    figure, axes_list = plt.subplots(
        len(panels),
        1,
        figsize=(9, 1.2 + 0.32 * rows + 0.6 * len(panels)),
        layout=ConstrainedLayoutEngine(w_pad=0.1),  # inches kept free around the labels
        height_ratios=[max(len(table), 1) for _, table in panels],
    )
    for axes, (title, table) in zip(axes_list, panels, strict=True):
        # the IRI where the ontology has no label; long names wrapped, not overlapping
        names = table["label"].fillna(table.iloc[:, 0]).map(lambda n: fill(str(n), 30))
        counts = table["datasets"].astype(int)
        bars = axes.barh(names[::-1], counts[::-1], color="#0b6bcb")
        axes.bar_label(bars, labels=[f"{n:,}" for n in counts[::-1]], padding=3, fontsize=8)
        axes.set_xscale("log")
        axes.set_xlim(0.8, max(10, counts.max() * 4 if len(counts) else 0))  # room for labels
        axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        axes.xaxis.set_minor_formatter(NullFormatter())  # decades only: 1, 10, 100…
        axes.set_title(f"Datasets by {title}", loc="left")
        axes.set_xlabel("datasets (log scale)")
        axes.tick_params(axis="y", labelsize=9)
        axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(chart, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
