"""Forwarding to the protected API: a pooled keep-alive client with header hygiene."""
