"""The end-to-end encryption tunnel: Oblivious HTTP between the browser and the gateway.

What it does: the cryptography of the tunnel, as pure functions without I/O. A client encrypts
a Binary HTTP request to one of the gateway's keys; the gateway decrypts it, runs the inner
request through the pipeline, and encrypts the inner response back to the same client.

* :mod:`~sealgate.tunnel.hpke`: RFC 9180 HPKE base mode (X25519, HKDF-SHA256, AES-GCM,
  ChaCha20Poly1305), with sequence numbers and secret export.
* :mod:`~sealgate.tunnel.bhttp`: RFC 9292 Binary HTTP codec with strict bounds.
* :mod:`~sealgate.tunnel.ohttp`: RFC 9458 key configurations and request/response
  encapsulation, gateway and client side.
* :mod:`~sealgate.tunnel.keys`: the gateway's key set, rotation with overlap, JSON storage.

Configuration: none here; the server passes a :class:`~sealgate.tunnel.keys.KeySet` (loaded by
the secrets module from :meth:`~sealgate.tunnel.keys.KeySet.from_json`).

Example (gateway side)::

    keys = KeySet.from_json(secret_text).decryption_keys()
    inner, ctx = ohttp.decapsulate_request(keys, body)          # message/ohttp-req
    request = bhttp.decode_request(inner)
    ...                                                         # run the pipeline
    body = ohttp.encapsulate_response(ctx, bhttp.encode_response(response))  # message/ohttp-res
"""

from __future__ import annotations

from sealgate.tunnel import bhttp, hpke, keys, ohttp
from sealgate.tunnel.bhttp import BhttpError, BhttpRequest, BhttpResponse
from sealgate.tunnel.keys import KeyPair, KeySet, KeySetError
from sealgate.tunnel.ohttp import (
    DecryptionError,
    GatewayKey,
    KeyConfig,
    MalformedMessageError,
    OhttpError,
    UnknownKeyError,
)

__all__ = [
    "BhttpError",
    "BhttpRequest",
    "BhttpResponse",
    "DecryptionError",
    "GatewayKey",
    "KeyConfig",
    "KeyPair",
    "KeySet",
    "KeySetError",
    "MalformedMessageError",
    "OhttpError",
    "UnknownKeyError",
    "bhttp",
    "hpke",
    "keys",
    "ohttp",
]
