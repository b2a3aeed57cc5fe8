"""Runs a scenario: pure planning (arrivals, churn, shards), then one scheduler per shard."""
