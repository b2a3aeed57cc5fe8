"""A run's thresholds as JUnit XML (``fleet run --junit FILE``), for CI systems' test views.

One ``<testsuite>`` named after the scenario; one ``<testcase>`` per threshold
(``name``: ``metric expression``, ``classname``: ``fleet.<scenario>``) with a
``<failure>`` when it failed (no data too) and ``<skipped>`` when no data was allowed. An
aborted run adds an ``<error>`` test case ``run`` so the CI does not show green. The
shape is the common JUnit one (Jenkins, GitLab and GitHub reporters read it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fleet.metrics import Summary
from fleet.metrics.report import format_observed


def junit_xml(summary: Summary) -> str:
    """The XML document, with declaration and final newline."""
    name = summary.scenario or "run"
    failures = sum(1 for t in summary.thresholds if t.status == "failed")
    skipped = sum(1 for t in summary.thresholds if t.status not in ("passed", "failed"))
    cases = len(summary.thresholds) + (1 if summary.aborted else 0)
    suites = ET.Element("testsuites", name="lwm2m-fleet thresholds")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=name,
        tests=str(cases),
        failures=str(failures),
        errors=str(1 if summary.aborted else 0),
        skipped=str(skipped),
        time=f"{summary.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("tool_version", summary.tool_version),
        ("scenario_path", summary.scenario_path),
        ("server_uri", summary.server_uri),
        ("seed", "" if summary.seed is None else str(summary.seed)),
        ("verdict", summary.verdict),
    ):
        ET.SubElement(properties, "property", name=key, value=value)
    for threshold in summary.thresholds:
        case = ET.SubElement(
            suite,
            "testcase",
            name=f"{threshold.metric} {threshold.expression}",
            classname=f"fleet.{name}",
            time="0",
        )
        observed = format_observed(threshold.metric, threshold.observed, ascii=True)
        if threshold.status == "failed":
            failure = ET.SubElement(
                case, "failure", message=f"observed {observed}", type="threshold"
            )
            failure.text = f"{threshold.metric}: {threshold.expression} failed, observed {observed}"
        elif threshold.status != "passed":
            ET.SubElement(case, "skipped", message=f"{threshold.status}: nothing to judge")
        else:
            ET.SubElement(case, "system-out").text = f"observed {observed}"
    if summary.aborted:
        case = ET.SubElement(suite, "testcase", name="run", classname=f"fleet.{name}")
        ET.SubElement(case, "error", message="the run was aborted before its end")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"
