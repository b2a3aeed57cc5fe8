"""Runs a scenario: pure planning (arrivals, churn, shards, machine slices), one scheduler per
shard, several shard processes (:mod:`.workers`) and the machine's limits (:mod:`.limits`)."""
