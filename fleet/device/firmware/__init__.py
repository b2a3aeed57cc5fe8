"""Firmware and software management on the device side, as pure logic.

- :mod:`.machine`: the Object 5 Firmware Update state machine as one table
  (State /5/0/3, Update Result /5/0/5);
- :mod:`.package`: the small package header we define (name, version, type,
  SHA-256 and size of the body) and a streaming reader that checks a package
  block by block without keeping it;
- :mod:`.objects`: the behaviour of Object 5 Firmware Update joining those
  rules to the tree; what takes time (downloads, the update, the reboot)
  reaches the client as :mod:`events <.events>`;
- :mod:`.software`: Object 9 Software Management, its state machine table and
  behaviour (downloads on the same client machinery);
- :mod:`.connectivity`: Object 4 Connectivity Monitoring with generated radio
  values.
"""
