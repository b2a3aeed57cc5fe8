"""The fuzz tests use the client tests' fake server fixture."""

from tests.client.conftest import server

__all__ = ["server"]
