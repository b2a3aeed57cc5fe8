"""The installed lwm2m-fleet version (what summaries and ``build_info`` report)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("lwm2m-fleet")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
