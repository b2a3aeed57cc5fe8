"""Tests of the ``fleet`` command line."""
