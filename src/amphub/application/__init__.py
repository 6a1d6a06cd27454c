"""Use cases as async services, and the ports (Protocols) they need from adapters."""
