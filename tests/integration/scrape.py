"""Reading Prometheus samples: from `/metrics`, or from this process's registry."""

from __future__ import annotations

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def local() -> Samples:
    """This process's samples (code under test that runs in-process records here)."""
    return parse(generate_latest(REGISTRY).decode())


class Moved:
    """How far samples moved since this was made."""

    def __init__(self) -> None:
        self.before = local()

    def __call__(self, name: str, **labels: str) -> float:
        return value(local(), name, **labels) - value(self.before, name, **labels)
