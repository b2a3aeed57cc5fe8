"""Interop with software we did not write: lwm2m-node-lib (npm) as the LwM2M server."""
