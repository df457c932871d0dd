"""setpiece hosts: the host protocol, DCC adapters, the in-app runtime and publishing."""
