"""The Grafana dashboard reads exactly the metrics the service defines, all of them."""

from __future__ import annotations

import json
import re
from typing import Any

from prometheus_client import REGISTRY

from service import metrics
from tests.conftest import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "fitbit-subscriber.json"
NAME = re.compile(r"\bfitbit_subscriber_[a-z_]+")
SUFFIX = re.compile(r"_(total|bucket|count|sum)$")


def defined() -> set[str]:
    return {
        family.name for family in REGISTRY.collect() if family.name.startswith("fitbit_subscriber_")
    }


def expressions(panels: list[dict[str, Any]]) -> list[str]:
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_dashboard_uses_every_metric_and_no_other() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    used = {
        SUFFIX.sub("", name)
        for expr in expressions(dashboard["panels"])
        for name in NAME.findall(expr)
    }
    assert used == defined()


def test_panels_do_not_overlap_and_use_the_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        box = panel["gridPos"]
        area = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert not area & cells, panel["title"]
        cells |= area
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_metric_docstring_lists_every_metric() -> None:
    documented = set(re.findall(r"^\s+([a-z_]+)[{ ]", metrics.__doc__ or "", re.MULTILINE))
    assert {f"fitbit_subscriber_{SUFFIX.sub('', name)}" for name in documented} == defined()
