"""Typed widget builders that emit CloudWatch dashboard body JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Optional


@dataclasses.dataclass(frozen=True)
class Line:
    """A metric on a graph, or a metric-math expression over other lines' ids."""

    namespace: str = ""
    name: str = ""
    dimensions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    stat: Optional[str] = None
    label: Optional[str] = None
    id: Optional[str] = None
    expression: Optional[str] = None
    visible: bool = True

    def to_json(self) -> list[Any]:
        options: dict[str, Any] = {}
        for key in ("stat", "label", "id"):
            if getattr(self, key):
                options[key] = getattr(self, key)
        if not self.visible:
            options["visible"] = False
        if self.expression:
            return [{"expression": self.expression, **options}]
        row: list[Any] = [self.namespace, self.name]
        for key, value in self.dimensions.items():
            row += [key, value]
        return row + ([options] if options else [])


@dataclasses.dataclass(frozen=True)
class Threshold:
    label: str
    value: float
    color: str = "#d13212"


@dataclasses.dataclass(frozen=True)
class Widget:
    title: str
    width: int = 8
    height: int = 6

    kind: str = dataclasses.field(default="", init=False)

    def properties(self, region: str) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self, x: int, y: int, region: str) -> dict[str, Any]:
        return {"type": self.kind, "x": x, "y": y, "width": self.width, "height": self.height,
                "properties": self.properties(region)}


@dataclasses.dataclass(frozen=True)
class MetricGraph(Widget):
    lines: Sequence[Line] = ()
    period: int = 300
    thresholds: Sequence[Threshold] = ()
    view: str = "timeSeries"
    stat: str = "Sum"
    # The widget's own time range, independent of the dashboard's: a relative ISO 8601 duration ("-P30D").
    start: Optional[str] = None
    # A single value computed over the whole time range, as one period ("setPeriodToTimeRange").
    whole_range: bool = False
    kind: str = dataclasses.field(default="metric", init=False)

    def properties(self, region: str) -> dict[str, Any]:
        props: dict[str, Any] = {
            "title": self.title, "region": region, "view": self.view, "period": self.period, "stat": self.stat,
            "metrics": [line.to_json() for line in self.lines],
        }
        if self.start:
            props["start"] = self.start
        if self.whole_range:
            props["setPeriodToTimeRange"] = True
        if self.thresholds:
            props["annotations"] = {"horizontal": [
                {"label": t.label, "value": t.value, "color": t.color} for t in self.thresholds]}
        return props


def single_value(title: str, lines: Sequence[Line], period: int = 86_400, stat: str = "Sum",
                 thresholds: Sequence[Threshold] = (), width: int = 6, height: int = 4,
                 start: Optional[str] = None, whole_range: bool = False) -> MetricGraph:
    return MetricGraph(title=title, lines=lines, period=period, stat=stat, thresholds=thresholds,
                       view="singleValue", width=width, height=height, start=start, whole_range=whole_range)


@dataclasses.dataclass(frozen=True)
class AlarmStatus(Widget):
    alarm_arns: Sequence[str] = ()
    kind: str = dataclasses.field(default="alarm", init=False)

    def properties(self, region: str) -> dict[str, Any]:
        return {"title": self.title, "alarms": list(self.alarm_arns), "sortBy": "stateUpdatedTimestamp"}


@dataclasses.dataclass(frozen=True)
class Text(Widget):
    markdown: str = ""
    width: int = 24
    height: int = 2
    kind: str = dataclasses.field(default="text", init=False)

    def properties(self, region: str) -> dict[str, Any]:
        return {"markdown": self.markdown}


@dataclasses.dataclass(frozen=True)
class LogQuery(Widget):
    log_groups: Sequence[str] = ()
    query: str = ""
    view: str = "table"
    kind: str = dataclasses.field(default="log", init=False)

    def properties(self, region: str) -> dict[str, Any]:
        sources = " | ".join(f"SOURCE '{group}'" for group in self.log_groups)
        return {"title": self.title, "region": region, "view": self.view, "query": f"{sources} | {self.query}"}
