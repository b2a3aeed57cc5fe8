"""What stops a valid scenario from running on *this* machine: said alike by ``fleet run`` and
``fleet validate``.

Two things are not the file's fault but the machine's: an optional package the scenario
needs (:func:`fleet.runner.extras.missing_extras`: DTLS) and a server or Bootstrap-Server
*name* that this machine cannot resolve (a Kubernetes Service name outside the cluster, a
typo in DNS). :func:`cannot_run` lists both, each once, in the words ``fleet run`` prints
after ``cannot run:`` (then exits 1) and ``fleet validate`` prints after ``this machine
cannot run it yet:`` (the file stays valid: exit 0, so a CI job can validate a cluster's
scenario where the cluster's names are unknown). The names are looked up as the fleet will
look them up (:func:`fleet.client.uri.lookup_blocking`: the system resolver, A and AAAA),
before any loop runs; a literal address needs no lookup.
"""

from __future__ import annotations

from fleet.client.uri import UnresolvedName, UriError, lookup_blocking, parse_uri
from fleet.runner.extras import missing_extras
from fleet.scenario import Scenario


def unresolved_names(scenario: Scenario) -> list[str]:
    """Why the scenario's server and its groups' Bootstrap-Servers cannot be looked up here
    (empty: every name resolves), one line per URI."""
    uris = [("server URI", scenario.server.uri)]
    uris += [
        ("bootstrap server URI", group.bootstrap.uri)
        for group in scenario.groups
        if group.bootstrap is not None
    ]
    reasons: list[str] = []
    seen: set[str] = set()
    for what, text in uris:
        if text in seen:
            continue
        seen.add(text)
        try:
            lookup_blocking(parse_uri(text, what=what), what=what)
        except UnresolvedName as error:
            reasons.append(str(error))
        except UriError:  # judged when the file was loaded: not this module's to say
            continue
    return reasons


def cannot_run(scenario: Scenario) -> list[str]:
    """Why this machine cannot run ``scenario`` (empty: it can): missing extras first, then
    names that do not resolve."""
    return [*missing_extras(scenario), *unresolved_names(scenario)]
