"""Tests of the OHTTP tunnel cryptography (sealgate.tunnel)."""
