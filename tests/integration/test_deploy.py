"""deploy/: the manifests render and validate offline, and hang together.

Rendering uses `kubectl kustomize` when kubectl is installed and tests/kustomize.py otherwise;
where both exist they must agree. Every object is checked against the Kubernetes OpenAPI
schemas (strict: unknown fields are errors) of the oldest and newest versions the
`kubernetes-validate` package carries; then what a schema cannot see: selectors that select,
references that resolve, settings that exist, grace periods that fit the shutdown.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from service import cli
from service.settings import Settings
from tests import kustomize
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
BUILDS = ("base", "migrate", "overlays/example", "overlays/example/migrate")
VERSIONS = ("1.29", kubernetes_validate.utils.latest_version())
KUBECTL = shutil.which("kubectl")
# The Secret the operator creates; deploy/README.md lists the same keys.
SECRET = "fitbit-subscriber"
# Optional in the Secret: only an installation that enables Google Health needs them.
GOOGLE_SECRET_KEYS = {
    "GOOGLE_HEALTH_CLIENT_ID",
    "GOOGLE_HEALTH_CLIENT_SECRET",
    "GOOGLE_HEALTH_WEBHOOK_SECRET",
}
SECRET_KEYS = {
    "DATABASE_URL",
    "REDIS_URL",
    "FITBIT_CLIENT_ID",
    "FITBIT_CLIENT_SECRET",
    "FITBIT_VERIFICATION_CODE",
    "TOKEN_ENCRYPTION_KEYS",
    *GOOGLE_SECRET_KEYS,
}
# Read by uvicorn, not by our settings.
OTHER_ENVIRONMENT = {"FORWARDED_ALLOW_IPS"}
PRESTOP_PAUSE = 5

Resource = dict[str, Any]


def kubectl_render(build: str) -> list[Resource]:
    assert KUBECTL is not None
    result = subprocess.run(  # noqa: S603 - kubectl with our arguments
        [KUBECTL, "kustomize", str(DEPLOY / build)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def _rendered(build: str) -> tuple[Resource, ...]:
    if KUBECTL is not None:
        return tuple(kubectl_render(build))
    return tuple(kustomize.render(DEPLOY / build))


def rendered(build: str) -> list[Resource]:
    return list(_rendered(build))


def key(resource: Resource) -> tuple[str, str, str]:
    meta = resource["metadata"]
    return resource["kind"], meta.get("namespace", ""), meta["name"]


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    (found,) = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def pod_specs(resources: list[Resource]) -> list[tuple[str, Resource]]:
    return [
        (r["metadata"]["name"], r["spec"]["template"]["spec"])
        for r in resources
        if r["kind"] in {"Deployment", "Job"}
    ]


# -- rendering and schemas ----------------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDS)
def test_our_renderer_agrees_with_kubectl(build: str) -> None:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: only tests/kustomize.py renders here")
    ours = {key(r): r for r in kustomize.render(DEPLOY / build)}
    theirs = {key(r): r for r in kubectl_render(build)}
    assert ours.keys() == theirs.keys()
    for name, resource in theirs.items():
        assert ours[name] == resource, name


def test_our_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nnamePrefix: x-\n")
    with pytest.raises(kustomize.Unsupported, match="namePrefix"):
        kustomize.render(tmp_path)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("build", BUILDS)
def test_every_object_matches_the_kubernetes_schema(build: str, version: str) -> None:
    resources = rendered(build)
    assert resources
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{key(resource)} at {path}: {exc.message}")


# -- what the schemas cannot see -----------------------------------------------------------------


def test_selectors_select_their_pods() -> None:
    resources = rendered("overlays/example")
    templates = {
        r["metadata"]["name"]: r["spec"]["template"]["metadata"]["labels"]
        for r in resources
        if r["kind"] == "Deployment"
    }
    for deployment in (r for r in resources if r["kind"] == "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= templates[deployment["metadata"]["name"]].items()
    for resource in resources:
        if resource["kind"] in {"Service", "PodDisruptionBudget"}:
            spec = resource["spec"]["selector"]
            selector = spec.get("matchLabels", spec)
            chosen = [n for n, labels in templates.items() if selector.items() <= labels.items()]
            assert len(chosen) == 1, f"{key(resource)} selects {chosen}"


def test_references_resolve() -> None:
    resources = rendered("overlays/example")
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    for hpa in (r for r in resources if r["kind"] == "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) in names
    ingress = find(resources, "Ingress", "fitbit-subscriber")
    for rule in ingress["spec"]["rules"]:
        assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = find(resources, "Service", backend["name"])
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    api = find(resources, "Deployment", "fitbit-subscriber-api")
    container_ports = {p["name"] for p in api["spec"]["template"]["spec"]["containers"][0]["ports"]}
    service = find(resources, "Service", "fitbit-subscriber-api")
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= container_ports


@pytest.mark.parametrize("build", ["overlays/example", "overlays/example/migrate"])
def test_secrets_are_referenced_never_included(build: str) -> None:
    resources = rendered(build)
    assert not [r for r in resources if r["kind"] == "Secret"]
    configmaps = {r["metadata"]["name"] for r in resources if r["kind"] == "ConfigMap"}
    for name, pod in pod_specs(resources):
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, f"{name}: name the keys it needs"
                assert source["configMapRef"]["name"] in configmaps
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    assert ref["name"] == SECRET
                    assert ref["key"] in SECRET_KEYS
                    assert variable["name"] == ref["key"]
                    assert ref.get("optional", False) == (ref["key"] in GOOGLE_SECRET_KEYS)


def test_configuration_names_real_settings() -> None:
    config = find(rendered("overlays/example"), "ConfigMap", "fitbit-subscriber")["data"]
    settings = {name.upper() for name in Settings.model_fields}
    assert set(config) <= settings | OTHER_ENVIRONMENT
    assert not set(config) & SECRET_KEYS
    Settings(_env_file=None, **{k.lower(): v for k, v in config.items() if k in settings})


@pytest.mark.parametrize("build", ["overlays/example", "overlays/example/migrate"])
def test_pods_are_locked_down_and_sized(build: str) -> None:
    for name, pod in pod_specs(rendered(build)):
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), name
            assert "memory" in container["resources"]["limits"], name
            cli._parser().parse_args(container["args"])  # a real command with real options
            # The one writable place: Python's temp files, prometheus multiprocess files.
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert mounts == {"/tmp"}, name  # noqa: S108 - an emptyDir of the pod's own


def _secret_env(container: Resource) -> set[str]:
    return {v["name"] for v in container.get("env", []) if "valueFrom" in v}


def test_google_health_is_configured_and_routed() -> None:
    resources = rendered("overlays/example")
    config = find(resources, "ConfigMap", "fitbit-subscriber")["data"]
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in config.items()})
    assert "google_health" in settings.enabled_providers.split(",")
    assert settings.google_health_subscription_policy == "automatic"
    ingress = find(resources, "Ingress", "fitbit-subscriber")
    (rule,) = ingress["spec"]["rules"]
    prefixes = {path["path"] for path in rule["http"]["paths"]}
    assert prefixes == {"/fitbit", "/google-health"}
    # Google sends the person back to the callback on the host the Ingress serves.
    assert settings.google_health_redirect_uri == f"https://{rule['host']}/google-health/callback"
    assert settings.fitbit_redirect_uri == f"https://{rule['host']}/fitbit/callback"
    pods = dict(pod_specs(resources))
    (api,) = pods["fitbit-subscriber-api"]["containers"]
    (worker,) = pods["fitbit-subscriber-worker"]["containers"]
    assert _secret_env(api) >= GOOGLE_SECRET_KEYS
    # A worker refreshes tokens; it never answers a push.
    assert _secret_env(worker) >= GOOGLE_SECRET_KEYS - {"GOOGLE_HEALTH_WEBHOOK_SECRET"}
    assert "GOOGLE_HEALTH_WEBHOOK_SECRET" not in _secret_env(worker)


def test_both_overlays_run_the_same_image_in_the_same_namespace() -> None:
    main, migrate = rendered("overlays/example"), rendered("overlays/example/migrate")
    images = {c["image"] for _, pod in pod_specs(main + migrate) for c in pod["containers"]}
    namespaces = {r["metadata"]["namespace"] for r in main + migrate}
    assert len(images) == 1
    assert ":" in next(iter(images)), "an overlay pins a tag"
    assert len(namespaces) == 1


def test_probes_and_grace_periods_fit_the_shutdown() -> None:
    resources = rendered("overlays/example")
    config = find(resources, "ConfigMap", "fitbit-subscriber")["data"]
    api = find(resources, "Deployment", "fitbit-subscriber-api")["spec"]["template"]["spec"]
    (container,) = api["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", str(PRESTOP_PAUSE)]
    needed = PRESTOP_PAUSE + int(config["API_SHUTDOWN_GRACE_SECONDS"])
    assert api["terminationGracePeriodSeconds"] > needed
    worker = find(resources, "Deployment", "fitbit-subscriber-worker")["spec"]["template"]["spec"]
    grace = int(config["WORKER_SHUTDOWN_GRACE_SECONDS"])
    assert worker["terminationGracePeriodSeconds"] > grace
    assert grace >= int(config["JOB_TIMEOUT"]), "a running job is cut short of its timeout"
    port = worker["containers"][0]["ports"][0]["containerPort"]
    assert str(port) == config["WORKER_METRICS_PORT"]


def test_no_replicas_beside_an_autoscaler() -> None:
    for resource in rendered("overlays/example"):
        if resource["kind"] == "Deployment":
            assert "replicas" not in resource["spec"], "kubectl apply would reset the HPA's count"


# -- compose ---------------------------------------------------------------------------------------

COMPOSE = DEPLOY / "compose.yaml"
COMPOSE_ROLES = {"migrate": "migrate", "api": "serve", "worker": "worker"}


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def env_file_keys() -> dict[str, str]:
    lines = (DEPLOY / "example.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return dict(pairs)


def test_compose_runs_each_role_from_the_repository_image() -> None:
    services = compose_services()
    assert set(services) == {"postgres", "redis", *COMPOSE_ROLES}
    for name, command in COMPOSE_ROLES.items():
        service = services[name]
        assert service["command"][0] == command
        cli._parser().parse_args(service["command"])  # a real command with real options
        assert (COMPOSE.parent / service["build"]["context"]).resolve() == ROOT
        assert service["env_file"] == [".env"]
        assert service["read_only"] is True


def test_compose_starts_things_in_order_and_checks_their_health() -> None:
    services = compose_services()
    healthy, done = "service_healthy", "service_completed_successfully"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": healthy}}
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends == {"migrate": {"condition": done}, "redis": {"condition": healthy}}
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    metrics_url = services["worker"]["environment"]["HEALTHCHECK_URL"]
    assert metrics_url.endswith(f":{Settings().worker_metrics_port}/metrics")


def test_compose_stop_grace_covers_the_shutdown() -> None:
    services, defaults = compose_services(), Settings()
    api_grace = int(services["api"]["stop_grace_period"].rstrip("s"))
    worker_grace = int(services["worker"]["stop_grace_period"].rstrip("s"))
    assert api_grace > defaults.api_shutdown_grace_seconds
    assert worker_grace > defaults.worker_shutdown_grace_seconds


def test_compose_keeps_secrets_in_the_env_file() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    example = env_file_keys()
    assert set(example) <= settings | {"POSTGRES_PASSWORD"}
    assert SECRET_KEYS - {"DATABASE_URL", "REDIS_URL"} <= set(example)
    assert all(not example[name] for name in SECRET_KEYS & set(example)), "no values"
    for name in COMPOSE_ROLES:
        environment = compose_services()[name]["environment"]
        assert set(environment) <= settings | {"HEALTHCHECK_URL"}
        assert "${POSTGRES_PASSWORD" in environment["DATABASE_URL"]
