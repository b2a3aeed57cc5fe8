"""One test per kind of mistake: the exact ``file:line:col:`` and message of each."""

from __future__ import annotations

from tests.scenario.conftest import Problems


def test_unknown_key_with_suggestion(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 2
            lifetmie: 60
        """
    )
    assert lines == [
        "s.yaml:4:5: unknown key 'lifetmie' in groups.0 (group); did you mean 'lifetime'?"
    ]


def test_unknown_key_in_other_spelling_suggests_the_real_one(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 2
            sendEnabled: true
        phases:
          - {duration: 10s, arrival_rate: 1}
        """
    )
    assert lines == [
        "s.yaml:4:5: unknown key 'sendEnabled' in groups.0 (group); did you mean 'send_enabled'?",
        "s.yaml:6:5: phases.0: a phase needs one of 'pause', 'arrivalCount', 'arrivalRate'",
    ]


def test_unknown_top_level_key(problems: Problems) -> None:
    lines = problems("version: 1\ngroups: [{count: 1}]\nthreshold: {}\n")
    assert lines == ["s.yaml:3:1: unknown key 'threshold' (scenario); did you mean 'thresholds'?"]


def test_duplicate_key(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 2
            lifetime: 60
            lifetime: 120
        """
    )
    assert lines == ["s.yaml:5:5: duplicate key 'lifetime' (first given at line 4, column 5)"]


def test_duplicate_key_in_a_flow_mapping(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - {count: 2, objects: {3303: [0], 3303: [1]}}
        """
    )
    assert lines == ["s.yaml:3:37: duplicate key 3303 (first given at line 3, column 26)"]


def test_missing_required_key(problems: Problems) -> None:
    lines = problems("version: 1\ngroups:\n  - name: a\n")
    assert lines == ["s.yaml:3:5: groups.0 is missing 'count': Number of devices."]


def test_wrong_type(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: ten
            send_enabled: maybe
        """
    )
    assert lines == [
        "s.yaml:3:12: groups.0.count must be a whole number, got text 'ten'",
        "s.yaml:4:19: groups.0.send_enabled must be true or false, got text 'maybe'",
    ]


def test_out_of_range_number(problems: Problems) -> None:
    lines = problems("version: 1\nseed: -3\ngroups: [{count: 0}]\n")
    assert lines == [
        "s.yaml:2:7: seed must be at least 0, got -3",
        "s.yaml:3:18: groups.0.count must be at least 1, got 0",
    ]


def test_unsupported_version(problems: Problems) -> None:
    lines = problems("version: 2\ngroups: [{count: 1}]\n")
    assert lines == [
        "s.yaml:1:10: version: unsupported scenario version integer 2; this fleet reads version 1"
    ]


def test_bad_duration(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        duration: 10 minutes
        groups:
          - count: 1
            lifetime: 1.5s
        """
    )
    assert lines == [
        "s.yaml:2:11: duration: '10 minutes' is not a duration: use 250ms, 10s, 5m, 1h, "
        "1h30m or a number of seconds; the units are ms, s, m, h and d",
        "s.yaml:5:15: groups.0.lifetime must be whole seconds, got '1.5s'",
    ]


def test_zero_duration(problems: Problems) -> None:
    lines = problems("version: 1\nduration: 0s\ngroups: [{count: 1}]\n")
    assert lines == ["s.yaml:2:11: duration must be longer than 0 s, got '0s'"]


def test_unknown_object(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects: {3304: [0]}
        """
    )
    assert lines == ["s.yaml:4:15: unknown object 3304 (known: 0, 1, 3, 4, 5, 6, 9, 3303, 3442)"]


def test_unknown_object_version(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects:
              3: {version: "9.9", instances: [0]}
        """
    )
    assert lines == ["s.yaml:5:20: no definition for object 3 version 9.9 (have 1.1)"]


def test_unknown_resource(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects: {3303: [0]}
            values:
              "/3303/0/5799": 1
        """
    )
    assert lines == [
        "s.yaml:6:7: value for /3303/0/5799: object 3303 (Temperature) v1.1 has no resource "
        "5799 (see `fleet objects show 3303`)"
    ]


def test_value_for_an_object_or_instance_the_group_lacks(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects: {3303: [0]}
            values:
              "/6/0/0": 1.5
              "/3303/1/5700": 20
        """
    )
    assert lines == [
        "s.yaml:6:7: value for /6/0/0: object 6 is not in this group's objects "
        "(add it under objects:)",
        "s.yaml:7:7: value for /3303/1/5700: object 3303 has no instance 1 in this group "
        "(instances: 0)",
    ]


def test_bad_value_for_type(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            values:
              "/3/0/9": 150
              "/3/0/13": soon
              "/3/0/4": 1
        """
    )
    assert lines == [
        "s.yaml:5:17: value for /3/0/9: resource 9 (Battery Level): 150 is outside 0..100",
        "s.yaml:6:18: value for /3/0/13: resource 13 (Current Time): 'soon' is not "
        "a Time (integer seconds)",
        "s.yaml:7:7: value for /3/0/4: resource 4 (Reboot) is executable and has no value",
    ]


def test_bad_generator(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects: {3303: [0]}
            generators:
              "/3303/0/5700": {kind: random_wlak, min: 0, max: 1}
              "/3/0/9": {kind: random_walk, min: 0, max: 400}
              "/3303/0/5601": {kind: sine, period: 1m, amplitude: 2, ofset: 3}
              "/3/0/1": {kind: counter}
        """
    )
    assert lines == [
        "s.yaml:6:30: unknown generator 'random_wlak'; did you mean 'random_walk'? (known: "
        "constant, random_walk, sine, daily, step, sawtooth, counter, replay, linked)",
        "s.yaml:7:50: generator for /3/0/9: max: 400 is outside the range of resource 9 "
        "(Battery Level): 0..100",
        "s.yaml:8:62: unknown parameter 'ofset' of generator sine; did you mean 'offset'? "
        "(known: period, amplitude, offset, noise, phase, random_phase, every, decimals)",
        "s.yaml:9:24: generator for /3/0/1: counter cannot drive resource 1 (Model Number) "
        "of type String (it fits Float, Integer, Time, Unsigned Integer)",
    ]


def test_linked_generator_reading_a_missing_path(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects: {3303: [0]}
            generators:
              "/3303/0/5602": {kind: linked, source: /3303/1/5700, op: max}
        """
    )
    assert lines == [
        "s.yaml:6:46: generator for /3303/0/5602 reads /3303/1/5700: object 3303 has no "
        "instance 1 in this group (instances: 0)"
    ]


def test_linked_generators_in_a_loop(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects: {3303: [0]}
            generators:
              "/3303/0/5601": {kind: linked, source: /3303/0/5602}
              "/3303/0/5602": {kind: linked, source: /3303/0/5601}
        """
    )
    assert lines == [
        "s.yaml:6:23: linked generators read each other in a loop: "
        "/3303/0/5601 -> /3303/0/5602 -> /3303/0/5601"
    ]


def test_bad_threshold(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups: [{count: 1}]
        thresholds:
          register_duration: ["p(95)<2", "p95<2s"]
          request_faild: ["rate<0.01"]
        """
    )
    assert lines == [
        "s.yaml:4:23: threshold on register_duration: 'p(95)<2': give the time with a unit "
        "(e.g. 2ms or 2s)",
        "s.yaml:4:34: threshold on register_duration: 'p95<2s' is not a threshold: write "
        "AGGREGATION OPERATOR VALUE, e.g. 'p(95)<2s', 'avg<=500ms', 'rate<0.01', 'count>100'",
        "s.yaml:5:3: thresholds: unknown metric 'request_faild'; did you mean 'request_failed'?",
    ]


def test_bad_endpoint_pattern(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - {count: 2, endpoint: "sim-{idx:04d}"}
          - {count: 2, endpoint: "fixed-name"}
          - {count: 2, endpoint: "sim-{index"}
          - {count: 2, endpoint: "sim-{index:s}"}
        """
    )
    assert lines == [
        "s.yaml:3:26: groups.0.endpoint: 'sim-{idx:04d}' uses {idx}; the only field is "
        "{index} (e.g. sim-{index:06d})",
        "s.yaml:4:26: groups.1.endpoint: every device would be called 'fixed-name': put "
        "{index} in the pattern (e.g. sim-{index:06d})",
        "s.yaml:5:26: groups.2.endpoint: 'sim-{index' is not a valid pattern (expected '}' "
        "before end of string); write literal braces as {{ and }}",
        "s.yaml:6:26: groups.3.endpoint: 'sim-{index:s}' cannot format a device index: "
        "Unknown format code 's' for object of type 'int'",
    ]


def test_duplicate_endpoints_across_groups(problems: Problems) -> None:
    # group 0: indexes 0..19 -> dev-0..dev-19; group 1 starts at 20, rendered in hex: dev-14
    lines = problems(
        """
        version: 1
        groups:
          - {count: 20, endpoint: "dev-{index}"}
          - {count: 5, endpoint: "dev-{index:x}"}
          - {count: 5, endpoint: "dev-{index}"}
        """
    )
    assert lines == [
        "s.yaml:4:26: groups.1.endpoint: device 20 would be called 'dev-14', like device 14 "
        "of groups.0; endpoint names must be unique across groups"
    ]


def test_duplicate_endpoints_within_a_group(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - {count: 20, endpoint: "d{index:.0e}"}
        """
    )
    assert lines == [
        "s.yaml:3:27: groups.0.endpoint: devices 10 and 11 would both be called 'd1e+01'"
    ]


def test_bad_server_uri(problems: Problems) -> None:
    for server, message in [
        (
            "http://127.0.0.1",
            "the scheme must be coap:// (NoSec) or coaps:// (DTLS-PSK), got http://",
        ),
        ("127.0.0.1:5683", "not a URI: write coap://127.0.0.1:5683"),
        ("coap://127.0.0.1:99999", "the port must be a number 1..65535"),
        ("coap://127.0.0.1:5683/rd", "give only coap://host:port (no path, query or fragment)"),
    ]:
        lines = problems(f"version: 1\nserver: {server}\ngroups: [{{count: 1}}]\n")
        assert len(lines) == 1
        assert lines[0].startswith(f"s.yaml:2:9: server URI {server!r}: "), lines
        assert lines[0].endswith(message), lines


def test_bad_phases(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups: [{count: 10}]
        phases:
          - {duration: 10s, arrivalRate: 2, arrivalCount: 5}
          - {arrivalRate: 2}
          - {pause: 10s, duration: 5s}
          - {duration: 10s, arrivalRate: 0}
          - {duration: 10s, arrivalRate: -1}
        """
    )
    assert lines == [
        "s.yaml:4:5: phases.0: a phase has 'arrivalCount' and 'arrivalRate'; keep one",
        "s.yaml:5:5: phases.1 is missing 'duration': How long the phase lasts.",
        "s.yaml:6:18: unknown key 'duration' in phases.2 (pause phase)",
        "s.yaml:7:5: phases.3 brings nobody in (arrivalRate 0); write {pause: ...} for a pause",
        "s.yaml:8:34: phases.4.arrivalRate must be at least 0, got -1",
    ]


def test_phases_that_cannot_bring_the_fleet_in(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        duration: 1m
        groups: [{count: 100}, {count: 50}]
        phases:
          - {duration: 30s, arrivalRate: 1, rampTo: 3}
          - {duration: 40s, arrivalCount: 80}
        """
    )
    assert lines == [
        "s.yaml:2:11: the run lasts 1m but its phases last 1m10s: lengthen duration or "
        "shorten the phases",
        "s.yaml:4:1: the phases bring in at most 140 devices but the groups have 150: "
        "lengthen the phases, raise their rates or counts, or lower the group counts",
    ]


def test_format_and_send_need_the_right_version(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            lwm2m_version: 1.0
            format: senml-json
            send_enabled: true
          - count: 1
            format: xml
        """
    )
    assert lines[0] == (
        "s.yaml:5:13: format senml-json needs LwM2M 1.1 or later; this group speaks LwM2M 1.0"
    )
    assert lines[1] == "s.yaml:6:19: Send needs LwM2M 1.1 or later; this group speaks 1.0"
    assert lines[2].startswith("s.yaml:8:13: groups.1.format: unknown content format 'xml'")
    assert len(lines) == 3


def test_instances_of_a_single_instance_object(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects:
              3: [0, 1]
              3303: [0, 0]
        """
    )
    assert lines == [
        "s.yaml:5:10: object 3 (Device) is single-instance; give one instance, got [0, 1]",
        "s.yaml:6:17: instance 0 of object 3303 is listed twice",
    ]


def test_invalid_yaml_points_at_the_problem(problems: Problems) -> None:
    lines = problems("version: 1\ngroups:\n  - count: [1, 2\n")
    assert len(lines) == 1
    assert lines[0].startswith("s.yaml:4:1: invalid YAML: while parsing a flow sequence: ")


def test_many_errors_reported_at_once_in_file_order(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        server: coap://127.0.0.1:0
        duration: forever
        groups:
          - count: 5
            endpont: "x-{index}"
            objects: {3303: [0]}
            values: {"/3303/0/5700": hot}
          - count: 5
            count: 6
        thresholds:
          register_duration: ["p(95)<2s", "med<"]
        """
    )
    assert [line.split(": ", 1)[0] for line in lines] == [
        "s.yaml:2:9",
        "s.yaml:3:11",
        "s.yaml:6:5",
        "s.yaml:8:30",
        "s.yaml:10:5",
        "s.yaml:12:35",
    ]
    assert "did you mean 'endpoint'?" in lines[2]
    assert "'hot' is not a Float" in lines[3]
    assert "duplicate key 'count'" in lines[4]


def test_bad_threshold_in_the_mapping_form(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups: [{count: 1}]
        thresholds:
          request_failed:
            - {threshold: "rate<2", allow_empty: true}
            - {threshold: "rate<0.1", allow_emtpy: true}
            - {allow_empty: yes}
        """
    )
    assert lines == [
        "s.yaml:5:19: threshold on request_failed: 'rate<2': a failure rate is a fraction "
        "between 0 and 1",
        "s.yaml:6:31: unknown key 'allow_emtpy' in thresholds.request_failed.1 (threshold); "
        "did you mean 'allow_empty'?",
        "s.yaml:7:7: thresholds.request_failed.2 is missing 'threshold': The expression, "
        "e.g. 'p(95)<2s'.",
    ]
