"""The client side of the LwM2M Bootstrap Interface (Core TS 1.1 §5.2.7, §6.1).

- :mod:`.rules`: pure rules (accounts, what Bootstrap-Delete spares, what Finish checks,
  Bootstrap-Discover links, the Bootstrap-Request query);
- :mod:`.configs` / :mod:`.config_reader`: what a Bootstrap-Server writes per endpoint (the
  embedded server's configurations, from a file or a scenario's ``bootstrap:`` section);
- :mod:`.factory`: the factory Bootstrap-Server Account of a configured device;
- :mod:`.site`: requests of the Bootstrap-Server mapped to operations;
- :mod:`.driver`: the :class:`~.driver.Bootstrapper` (hold-off, request, wait for Finish,
  retries, account purge).
"""
