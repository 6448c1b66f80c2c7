"""Talking to servers: the client, streams, plain HTTP, transports, classification, URLs, backends."""
