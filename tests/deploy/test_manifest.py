"""deploy/fleet-job.yaml: a valid batch/v1 Indexed Job whose command our CLI accepts.

The Job is checked against ``batch-v1-job.schema.json`` (a subset of the
Kubernetes API written from its reference, refusing unknown fields); its
command is parsed by the real ``fleet run`` click command; its scenario loads.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import click
import jsonschema
import pytest
import yaml

from fleet.cli import main
from fleet.cli.run import run
from fleet.runner.planning import machine_slice
from fleet.scenario import load_scenario_text

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "fleet-job.yaml"
SCHEMA = pathlib.Path(__file__).with_name("batch-v1-job.schema.json")


def documents() -> dict[str, dict[str, Any]]:
    with MANIFEST.open(encoding="utf-8") as stream:
        docs = [doc for doc in yaml.safe_load_all(stream) if doc is not None]
    kinds = [doc["kind"] for doc in docs]
    assert len(set(kinds)) == len(kinds), kinds
    return {doc["kind"]: doc for doc in docs}


def job() -> dict[str, Any]:
    return documents()["Job"]


def container() -> dict[str, Any]:
    containers = job()["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    found: dict[str, Any] = containers[0]
    return found


def env() -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container().get("env", [])}


def run_context() -> click.Context:
    command = container()["command"] + container().get("args", [])
    assert command[:2] == ["fleet", "run"], command
    assert "run" in main.commands
    return run.make_context("fleet run", list(command[2:]))


def test_the_job_is_a_valid_batch_v1_job() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(job())


def test_the_schema_refuses_what_kubernetes_refuses() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    bad = job()
    bad["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert not validator.is_valid(bad)
    typo = job()
    typo["spec"]["completionsMode"] = "Indexed"
    assert not validator.is_valid(typo)
    no_count = job()
    del no_count["spec"]["completions"]
    assert not validator.is_valid(no_count)


def test_it_is_an_indexed_job_with_one_slice_per_index() -> None:
    spec = job()["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["parallelism"] == spec["completions"]  # every slice runs at the same time
    params = run_context().params
    shard_count = params["shard_count"] or int(env()["FLEET_SHARD_COUNT"])
    assert shard_count == spec["completions"]
    assert params["shard_index"] is None  # from JOB_COMPLETION_INDEX


def test_the_command_uses_flags_and_variables_our_cli_has() -> None:
    params = run_context().params
    known = {
        variable
        for param in run.params
        if isinstance(param, click.Option)
        for variable in (
            [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or [])
        )
    }
    known |= {"FLEET_SERVER", "FLEET_DEVICES", "FLEET_DURATION", "FLEET_SEED"}
    assert set(env()) <= known, set(env()) - known
    workers = int(env()["FLEET_WORKERS"])
    assert workers >= 1
    cpus = container()["resources"]["limits"]["cpu"]
    assert workers == int(cpus)  # one shard process per CPU the pod may use
    ports = {port["containerPort"] for port in container()["ports"]}
    assert params["metrics_port"] in ports
    assert params["metrics_host"] == "0.0.0.0"  # scrapeable from outside the pod
    annotations = job()["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == params["metrics_port"]


def test_summaries_and_scenario_are_on_the_mounted_volumes() -> None:
    params = run_context().params
    mounts = {m["name"]: m["mountPath"] for m in container()["volumeMounts"]}
    volumes = {v["name"]: v for v in job()["spec"]["template"]["spec"]["volumes"]}
    assert set(mounts) == set(volumes)
    summary = str(params["summary_json"])
    assert summary.startswith(mounts["summaries"] + "/")
    assert "$(JOB_COMPLETION_INDEX)" in summary  # one file per slice
    claim = volumes["summaries"]["persistentVolumeClaim"]["claimName"]
    pvc = documents()["PersistentVolumeClaim"]
    assert pvc["metadata"]["name"] == claim and "ReadWriteMany" in pvc["spec"]["accessModes"]
    scenario_path = pathlib.PurePosixPath(str(params["scenario_file"]))
    assert str(scenario_path.parent) == mounts["scenario"]
    config_map = documents()["ConfigMap"]
    assert volumes["scenario"]["configMap"]["name"] == config_map["metadata"]["name"]
    assert scenario_path.name in config_map["data"]


def test_the_shipped_scenario_loads_and_every_slice_gets_devices() -> None:
    data = documents()["ConfigMap"]["data"]
    scenario = load_scenario_text(data["scenario.yaml"], file="deploy/fleet-job.yaml")
    count = job()["spec"]["completions"]
    sizes = [len(machine_slice(scenario.device_count, i, count)) for i in range(count)]
    assert sum(sizes) == scenario.device_count and min(sizes) > 0
    # a cluster user names the server's Service, looked up by each pod (docs/servers.md)
    assert scenario.server.uri == "coap://lwm2m.iot.svc:5683"


@pytest.mark.parametrize("flag", ["--shard-count", "--workers", "--source-address"])
def test_the_documented_flags_exist(flag: str) -> None:
    assert flag in {opt for param in run.params for opt in getattr(param, "opts", [])}
