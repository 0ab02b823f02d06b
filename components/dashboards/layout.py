"""Places widgets on CloudWatch's 24-column grid: left to right, a new row when one does not fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.dashboards.widgets import Widget

GRID_COLUMNS = 24


def layout(widgets: Sequence[Widget], region: str) -> list[dict[str, Any]]:
    placed: list[dict[str, Any]] = []
    x = y = row_height = 0
    for widget in widgets:
        if widget.width > GRID_COLUMNS:
            raise ValueError(f"widget {widget.title!r} is {widget.width} columns wide (at most {GRID_COLUMNS})")
        if x + widget.width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append(widget.to_json(x, y, region))
        x += widget.width
        row_height = max(row_height, widget.height)
    return placed
