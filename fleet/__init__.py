"""lwm2m-fleet: simulate whole fleets of LwM2M devices in one process."""
