"""A small kustomize, for machines without `kubectl kustomize`.

It covers exactly the features deploy/ uses, and refuses any other (so it can never silently
render something different): `resources` (files, possibly multi-document, and directories),
`namespace`, `labels` (pairs only, on metadata), `images` (newName/newTag), and `patches` given
as a path to a strategic-merge patch that names its target by kind and name. A test checks
that it agrees with kubectl's kustomize wherever kubectl is installed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

SUPPORTED = frozenset(
    {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
)
# Kinds of ours that have no namespace.
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass"})
# Lists merged item by item on this key (Kubernetes' patchMergeKey) rather than replaced.
MERGE_KEY = "name"


class Unsupported(ValueError):
    """The kustomization uses a feature this renderer does not implement."""


def render(directory: Path) -> list[Resource]:
    kustomization = _kustomization(directory)
    resources = [r for entry in kustomization.get("resources", []) for r in _load(directory, entry)]
    for patch in kustomization.get("patches", []):
        _apply_patch(resources, directory, patch)
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    for label in kustomization.get("labels", []):
        _add_labels(resources, label)
    for image in kustomization.get("images", []):
        _set_image(resources, image)
    return resources


def _kustomization(directory: Path) -> dict[str, Any]:
    data = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(data) - SUPPORTED
    if unknown:
        raise Unsupported(f"{directory}: {sorted(unknown)}")
    return dict(data)


def _load(directory: Path, entry: str) -> list[Resource]:
    path = (directory / entry).resolve()
    if path.is_dir():
        return render(path)
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _apply_patch(resources: list[Resource], directory: Path, patch: dict[str, Any]) -> None:
    if set(patch) != {"path"}:
        raise Unsupported(f"patch {patch}: only `path` to a strategic-merge patch")
    body = yaml.safe_load((directory / patch["path"]).read_text())
    targets = [r for r in resources if _same_object(r, body)]
    if len(targets) != 1:
        raise ValueError(f"patch {patch['path']} matches {len(targets)} resources")
    merged = merge(targets[0], body)
    targets[0].clear()
    targets[0].update(merged)


def _same_object(resource: Resource, patch: Resource) -> bool:
    return bool(
        resource["kind"] == patch["kind"]
        and resource["metadata"]["name"] == patch["metadata"]["name"]
    )


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge for what our patches do: maps recursively, named lists by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        if any(key.startswith("$") for key in patch):
            raise Unsupported(f"patch directive in {sorted(patch)}")
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if _named(base) and _named(patch):
        merged_list = copy.deepcopy(base)
        by_name = {item[MERGE_KEY]: n for n, item in enumerate(merged_list)}
        for item in patch:
            n = by_name.get(item[MERGE_KEY])
            if n is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[n] = merge(merged_list[n], item)
        return merged_list
    return copy.deepcopy(patch)


def _named(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and MERGE_KEY in i for i in value)


def _add_labels(resources: list[Resource], label: dict[str, Any]) -> None:
    if set(label) != {"pairs"}:
        raise Unsupported(f"labels {sorted(label)}: only `pairs`, applied to metadata")
    for resource in resources:
        resource["metadata"].setdefault("labels", {}).update(label["pairs"])


def _set_image(resources: list[Resource], image: dict[str, str]) -> None:
    if set(image) - {"name", "newName", "newTag"}:
        raise Unsupported(f"images {sorted(image)}")
    for container in _containers(resources):
        name = image_name(container["image"])
        if name == image["name"]:
            new = image.get("newName", name)
            container["image"] = f"{new}:{image['newTag']}" if "newTag" in image else new


def image_name(image: str) -> str:
    """`registry:5000/name:tag@digest` without its tag and digest."""
    name = image.split("@")[0]
    head, colon, tag = name.rpartition(":")
    return head if colon and "/" not in tag else name


def _containers(resources: list[Resource]) -> Iterator[dict[str, Any]]:
    for resource in resources:
        pod = resource.get("spec", {}).get("template", {}).get("spec", {})
        yield from pod.get("initContainers", [])
        yield from pod.get("containers", [])
