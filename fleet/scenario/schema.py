"""The published JSON Schema (draft 2020-12) of scenario files.

Generated from the one declaration in :mod:`fleet.scenario.spec` (the same
one the loader checks files with), plus the generator kinds' own schemas.
``fleet schema`` prints it; a file can point editors at a saved copy::

    # yaml-language-server: $schema=./scenario.schema.json

The schema catches shapes and types as you type; ``fleet validate`` checks
everything else (objects and resources against their definitions, endpoint
names, phases against the fleet size).
"""

from __future__ import annotations

from typing import Final

from fleet.scenario.kinds import JSON
from fleet.scenario.spec import SCENARIO

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID: Final = "urn:lwm2m-fleet:scenario:1"


def json_schema() -> JSON:
    """The JSON Schema of a scenario file, as a JSON-ready dict."""
    return {"$schema": DIALECT, "$id": SCHEMA_ID, **SCENARIO.schema()}
