"""What a bootstrap-configured device holds when it leaves the factory, and when it must bootstrap.

:func:`install_bootstrap_account` writes the Bootstrap-Server Account of a
:class:`~fleet.client.config.DeviceConfig` with ``bootstrap`` into a new tree
(once per device, before anyone listens): Server URI, Bootstrap-Server true,
Security Mode (NoSec, or PSK with ``bootstrap_psk``) and Client Hold Off Time.
Without ``factory_server`` it is ``/0/0`` and the Server object has no instance
(the device knows only its Bootstrap-Server); with it, the account goes into the
lowest free Security instance beside the factory server account.

:func:`wants_bootstrap` is the 6.1 decision at power-on: bootstrap when no LwM2M
Server account is usable.
"""

from __future__ import annotations

from fleet.client.bootstrap import rules
from fleet.client.bootstrap.rules import SecurityMode
from fleet.client.config import ConfigError, DeviceConfig
from fleet.device.tree import ObjectTree
from fleet.model.nodes import ObjectInstance, SingleResource
from fleet.model.path import Path
from fleet.model.values import Value


def bootstrap_values(config: DeviceConfig) -> dict[int, Value]:
    """The Security resources of ``config``'s Bootstrap-Server Account."""
    if config.bootstrap is None:
        raise ConfigError(f"{config.endpoint}: no bootstrap server configured")
    psk = config.bootstrap_psk
    mode = SecurityMode.NO_SEC if psk is None else SecurityMode.PRE_SHARED_KEY
    return {
        rules.URI: config.bootstrap,
        rules.IS_BOOTSTRAP: True,
        rules.MODE: int(mode),
        rules.IDENTITY: psk.identity if psk is not None else b"",
        rules.SECRET_KEY: psk.key if psk is not None else b"",
        rules.HOLD_OFF: config.bootstrap_hold_off,
    }


def install_bootstrap_account(tree: ObjectTree, config: DeviceConfig) -> None:
    """Write the factory Bootstrap-Server Account (see the module docstring)."""
    versions = tree.object_versions()
    if rules.SECURITY not in versions or rules.SERVER not in versions:
        raise ConfigError(
            f"{config.endpoint}: a bootstrap device needs the Security (0) and Server (1) objects"
        )
    plan_resources = {r.id for r in tree.supported(rules.SECURITY)}
    values = {rid: v for rid, v in bootstrap_values(config).items() if rid in plan_resources}
    if config.factory_server:
        existing = tree.instances(rules.SECURITY)
        iid = next(i for i in range(len(existing) + 1) if i not in existing)
    else:
        iid = 0
        for server in tree.instances(rules.SERVER):
            tree.remove_instance(rules.SERVER, server)
    resources = {rid: SingleResource(rid, value) for rid, value in values.items()}
    tree.bootstrap_write(Path(rules.SECURITY, iid), ObjectInstance(iid, resources))


def wants_bootstrap(tree: ObjectTree, config: DeviceConfig) -> bool:
    """Whether the device bootstraps before registering: it has a Bootstrap-Server and no
    usable LwM2M Server account (6.1)."""
    return config.bootstrap is not None and rules.needs_bootstrap(tree)


def forget_accounts(tree: ObjectTree) -> None:
    """Lose every LwM2M Server account (its Security and Server instances): what a device
    that forgets its bootstrap result on reboot keeps is only its Bootstrap-Server Account."""
    for path in (Path(rules.SECURITY), Path(rules.SERVER)):
        for target in rules.deletions(tree, path):
            tree.remove_instance(target[0], target[1])
