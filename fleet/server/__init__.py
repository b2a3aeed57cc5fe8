"""The embedded LwM2M server: registration directory, device management, observations."""
