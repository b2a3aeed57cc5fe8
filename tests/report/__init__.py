"""Tests of fleet/report: the HTML report, its charts, CSV and JUnit files."""
