"""Scenario files: YAML -> validated, frozen data whose errors carry file:line:col."""
