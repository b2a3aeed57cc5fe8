"""A report never shows a scenario's keys: every ``key`` value is redacted, the rest kept."""

from __future__ import annotations

from pathlib import Path

from fleet.metrics import Summary
from fleet.report.html import render_report
from fleet.report.redact import REDACTED, redact_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_block_style_keys_are_redacted_and_comments_kept() -> None:
    text = (
        "groups:\n"
        "  - name: psk\n"
        "    security:\n"
        "      identity: dev-{index}\n"
        '      key: "hex:00112233{index:024x}"   # 16 bytes\n'
        "  - key: plain-secret\n"
    )
    out = redact_scenario(text)
    assert "00112233" not in out and "plain-secret" not in out
    assert "identity: dev-{index}" in out
    assert f"key: {REDACTED}   # 16 bytes\n" in out
    assert f"  - key: {REDACTED}\n" in out
    assert out.count("\n") == text.count("\n")  # line numbers still match the file


def test_flow_style_and_block_scalars_are_redacted() -> None:
    text = (
        "security: {identity: a, key: 's3cr,et'}\n"
        'bootstrap: {uri: "coaps://bs:5684", security: {key: hexkey, identity: b}}\n'
        "other:\n"
        "  key: |\n"
        "    line-one-secret\n"
        "    line-two-secret\n"
        "  monkey: visible\n"
        "  key:\n"
        "    below-secret\n"
        "next: 1\n"
    )
    out = redact_scenario(text)
    for secret in ("s3cr", "hexkey", "line-one-secret", "line-two-secret", "below-secret"):
        assert secret not in out
    assert "identity: a" in out and "identity: b" in out and 'uri: "coaps://bs:5684"' in out
    assert "monkey: visible" in out and "next: 1" in out
    assert out.count("\n") == text.count("\n")


def test_a_key_file_name_and_words_containing_key_stay() -> None:
    text = "keys_file: data/dtls-keys.csv\nprivate_key: certs/{endpoint}.key\nkeyboard: 1\n"
    assert redact_scenario(text) == text


def test_the_report_of_the_psk_scenario_shows_no_key() -> None:
    text = (SCENARIOS / "dtls-psk.yaml").read_text()
    assert "hex:00112233" in text  # the shipped example carries a key pattern
    page = render_report(Summary(), scenario_text=text)
    assert "hex:00112233" not in page
    assert "&lt;redacted&gt;" in page or "<redacted>" in page
    assert "data/dtls-keys.csv" in page  # the keys file is named, not its content
