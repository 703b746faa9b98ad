"""Query results as pandas DataFrames with column types that fit their values.

- integers: pandas' nullable ``Int64`` (a column with unbound rows stays integer, with
  ``<NA>``), booleans: nullable ``boolean``, other numbers: ``float64``;
- the comma-joined lists the queries return (``shape``, ``scale``, ``axes``, ``units``; the
  ``|``-joined ``channel_labels``): Python lists, of numbers where every item is one
  (``"1,188928,186880"`` → ``[1, 188928, 186880]``), with ``None`` for empty items;
- everything else (IRIs, text): ``object`` columns of ``str``.
"""

from __future__ import annotations

from typing import Any

from ngff_kg.errors import require

#: Columns that hold joined lists, and the separator of their items.
LIST_COLUMNS = {"shape": ",", "scale": ",", "axes": ",", "units": ",", "channel_labels": "|"}


def split_list(text: str, separator: str, column: str = "") -> list[Any]:
    """The items of a joined list: all ``int`` or all numbers when every item is one
    (``scale`` items are always ``float``)."""
    items = text.split(separator)
    for kind in (float,) if column == "scale" else (int, float):
        try:
            return [kind(item) for item in items]
        except ValueError:
            continue
    return [item or None for item in items]


def dataframe(columns: list[str], rows: list[dict[str, Any]]) -> Any:
    """A DataFrame of plain-value rows (see the module documentation for the column types).

    :raises MissingDependencyError: pandas is not installed.
    """
    pandas: Any = require("pandas", "notebook")
    data: dict[str, Any] = {}
    for column in columns:
        values = [row[column] for row in rows]
        present = [v for v in values if v is not None]
        kinds = {type(v) for v in present}
        separator = LIST_COLUMNS.get(column)
        if separator and kinds == {str}:
            lists = [None if v is None else split_list(v, separator, column) for v in values]
            data[column] = pandas.Series(lists, dtype=object)
        elif kinds == {bool}:
            data[column] = pandas.array(values, dtype="boolean")
        elif kinds == {int}:
            data[column] = pandas.array(values, dtype="Int64")
        elif kinds and kinds <= {int, float}:
            floats = [float("nan") if v is None else float(v) for v in values]
            data[column] = pandas.array(floats, dtype="float64")
        else:
            data[column] = pandas.Series(values, dtype=object)
    return pandas.DataFrame(data, columns=columns)
