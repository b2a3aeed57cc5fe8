"""``--junit`` read by junitparser (a JUnit XML library we did not write): the thresholds come
out as the test cases, failures, skips and error a CI system would show."""

from __future__ import annotations

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from fleet.metrics import Summary, ThresholdLine
from fleet.report.junit import junit_xml

pytestmark = pytest.mark.interop


def suite_of(summary: Summary) -> TestSuite:
    document = JUnitXml.fromstring(junit_xml(summary))
    suites = list(document)
    assert len(suites) == 1
    suite = suites[0]
    assert isinstance(suite, TestSuite)
    return suite


def results(case: TestCase) -> list[type]:
    return [type(result) for result in case.result]


def test_thresholds_are_test_cases_with_their_outcome() -> None:
    summary = Summary(scenario="storm", seed=3, duration=61.5, server_uri="coap://h:5683")
    summary.thresholds = (
        ThresholdLine("register_failed", "rate==0", 0.0, "passed"),
        ThresholdLine("register_duration", "p(95)<1s", 2.5, "failed"),
        ThresholdLine("send_duration", "p(95)<1s", None, "no data"),
    )
    suite = suite_of(summary)
    assert (suite.name, suite.tests, suite.failures, suite.skipped, suite.errors) == (
        "storm",
        3,
        1,
        1,
        0,
    )
    assert suite.time == 61.5
    cases = {case.name: case for case in suite}
    assert set(cases) == {
        "register_failed rate==0",
        "register_duration p(95)<1s",
        "send_duration p(95)<1s",
    }
    assert results(cases["register_failed rate==0"]) == []  # passed
    assert results(cases["register_duration p(95)<1s"]) == [Failure]
    assert cases["register_duration p(95)<1s"].result[0].message == "observed 2.5s"
    assert results(cases["send_duration p(95)<1s"]) == [Skipped]
    assert all(case.classname == "fleet.storm" for case in cases.values())
    properties = {p.name: p.value for p in suite.properties()}
    assert properties["verdict"] == "failed" and properties["server_uri"] == "coap://h:5683"


def test_an_aborted_run_is_an_error_case() -> None:
    summary = Summary(scenario="smoke", aborted=True)
    suite = suite_of(summary)
    assert (suite.tests, suite.errors) == (1, 1)
    (case,) = list(suite)
    assert case.name == "run" and results(case) == [Error]
