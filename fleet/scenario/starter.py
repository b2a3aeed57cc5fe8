"""The commented starter scenario that ``fleet init`` writes.

It must pass ``fleet validate`` as written (a test checks it), and shows each
section with a comment saying what it does and how to change it.
"""

from __future__ import annotations

from typing import Final

SCHEMA_FILE: Final = "scenario.schema.json"

STARTER: Final = f"""\
# yaml-language-server: $schema=./{SCHEMA_FILE}
#
# An lwm2m-fleet scenario. Check it:      fleet validate scenario.yaml
# Editor completion and checks as you type: save the schema beside this file
#   fleet schema > {SCHEMA_FILE}
# (the first line of this file points YAML editors at it).
#
# Durations: 250ms, 10s, 5m, 1h, 1h30m, or a number of seconds.
# Every value can be overridden when running; flags win over the environment,
# which wins over this file:
#   --server URI   FLEET_SERVER      --devices N    FLEET_DEVICES
#   --duration D   FLEET_DURATION    --seed N       FLEET_SEED
#   --set key.path=value  (e.g. --set groups.sensors.lifetime=10m)

version: 1                        # scenario format version: always 1
description: Temperature sensors reporting to a local LwM2M server

server: coap://127.0.0.1:5683     # the LwM2M server (coap://host:port)
seed: 1                           # same seed, same run: every random choice comes from it
duration: 10m                     # how long the run lasts; remove it to run until Ctrl-C

# objects: [./objects]            # extra DDF XML folders, relative to this file

groups:                           # device indexes run through the groups in order
  - name: sensors
    count: 20                     # devices in this group
    endpoint: "sim-{{index:06d}}"   # {{index}}: the device's index in the whole fleet
    lwm2m_version: "1.1"          # 1.0, 1.1 or 1.2
    lifetime: 5m                  # registration lifetime; Updates come before it ends
    binding: U                    # U, or UQ for queue mode
    # format: senml-cbor          # preferred content format (default: the version's)
    objects:                      # 0 (Security), 1 (Server) and 3 (Device) are always there
      3303: [0]                   # Temperature, instance 0; {{version: "1.1", instances: [0, 1]}}
    values:                       # initial values by path
      "/3/0/0": ACME Sensors
      "/3/0/1": T-1000
      "/3303/0/5701": Cel
    generators:                   # values that move over time (fleet schema lists every kind)
      "/3303/0/5700": {{kind: random_walk, min: -10, max: 40, step: 0.5, every: 10s}}
      "/3303/0/5602": {{kind: linked, source: /3303/0/5700, op: max}}   # max measured value
    send_enabled: false           # true: the devices may use Send (LwM2M 1.1+)

# When devices arrive, in index order. Without phases they all arrive at the
# start; once the whole fleet is in, later phases only pass time.
phases:
  - {{duration: 30s, arrivalRate: 1, rampTo: 5}}   # 1 device/s, ramping up to 5/s
  - {{pause: 10s}}                                 # nobody arrives for 10 s
  # - {{duration: 1m, arrivalCount: 100}}          # 100 devices spread over a minute

# churn: {{deregister_rate: 0.1, away: 30s}}       # devices leaving and coming back

thresholds:                       # k6-style pass/fail criteria; a failed one fails the run,
  register_duration: ["p(95)<2s"]  # and so does one whose metric has no data
  request_failed:                 # the server may send no request at all: let no data pass
    - {{threshold: "rate<0.01", allow_empty: true}}
"""
"""The starter scenario's text."""
