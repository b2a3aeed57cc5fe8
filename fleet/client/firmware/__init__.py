"""The client's half of firmware updates: downloads, package checks, the update and the reboot.

- :mod:`.settings`: :class:`~.settings.FirmwareSettings`, what a device's
  firmware does (link speed, storage, accepted package types, loss handling,
  update duration, reboot) and the faults it is made to have;
- :mod:`.uri`: which Package URIs a device can download from (pure);
- :mod:`.download`: the pull over ``coap://`` with Block2, block by block at
  the link speed, resumed or restarted on loss;
- :mod:`.driver`: :class:`~.driver.FirmwareClient`, one per device that uses
  Object 5, acting on the tree's firmware events;
- :mod:`.events`: what a device reports about its downloads and updates.

The state machine itself is pure and lives in :mod:`fleet.device.firmware`.
"""
