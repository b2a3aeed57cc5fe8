"""A user object (DDF) the shipped objects do not have, and devices that carry it."""

from __future__ import annotations

import pathlib

from fleet.device.layout import DeviceLayout
from fleet.model import ModelRegistry
from fleet.model.shipped import build_registry

TANK = """<LWM2M><Object ObjectType="MODefinition">
  <Name>Tank</Name><ObjectID>20500</ObjectID><ObjectVersion>1.0</ObjectVersion>
  <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
  <Resources>
    <Item ID="0"><Name>Tank Name</Name><Operations>RW</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>
      <Type>String</Type></Item>
    <Item ID="1"><Name>Level</Name><Operations>R</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
      <Type>Float</Type><RangeEnumeration>0..100</RangeEnumeration></Item>
    <Item ID="2"><Name>Fills</Name><Operations>RW</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>
      <Type>Integer</Type></Item>
    <Item ID="3"><Name>Open</Name><Operations>RW</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>
      <Type>Boolean</Type></Item>
  </Resources>
</Object></LWM2M>"""

TANK_LAYOUT = DeviceLayout.of({0: [0], 1: [0], 3: [0], 20500: [0]})
TANK_VALUES = {"/20500/0/0": "north", "/20500/0/1": 42.5, "/20500/0/2": 7, "/20500/0/3": True}


def tank_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "objects"
    folder.mkdir(exist_ok=True)
    (folder / "20500.xml").write_text(TANK, encoding="utf-8")
    return folder


def tank_registry(tmp_path: pathlib.Path) -> ModelRegistry:
    return build_registry([tank_dir(tmp_path)])
