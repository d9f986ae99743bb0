"""Test helpers: real loopback upstreams and in-process uvicorn gateways."""
