"""sealgate-client.js Oblivious HTTP (RFC 9458): Appendix A rebuilt byte for byte in Chromium, key lists."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tunnel._vectors import load

pytestmark = pytest.mark.browser

EX = load("ohttp-rfc9458-example.json")


def test_rfc9458_appendix_a(js_page: Any) -> None:
    out = js_page.evaluate(
        """async (ex) => {
          const {ohttp, hpke, bhttp, hex} = await import('/static/sealgate-client.js');
          const H = hex.decode, X = hex.encode, te = new TextEncoder();
          const cfgLen = H(ex.key_config).length;
          const list = new Uint8Array([cfgLen >> 8, cfgLen & 255, ...H(ex.key_config)]);
          const {config, suite} = ohttp.selectKeyConfig(ohttp.parseKeyConfigs(list));
          const {message, context} = await ohttp.encapsulateRequest(config, suite, H(ex.request_bhttp),
                                                                    H(ex.client_ephemeral_secret_key));
          const secret = await context.hpke.export(te.encode(ex.response_export_label), 16);
          const nonce = H(ex.encapsulated_response).subarray(0, 16);
          const salt = new Uint8Array([...context.enc, ...nonce]);
          const prk = await hpke.hkdfExtract(salt, secret);
          const key = await hpke.hkdfExpand(prk, te.encode('key'), 16);
          const aeadNonce = await hpke.hkdfExpand(prk, te.encode('nonce'), 12);
          const inner = await ohttp.decapsulateResponse(context, H(ex.encapsulated_response));
          return {keyId: config.keyId, publicKey: X(config.publicKey), suite, enc: X(context.enc),
                  message: X(message), secret: X(secret), salt: X(salt), prk: X(prk), key: X(key),
                  aeadNonce: X(aeadNonce), inner: X(inner), status: bhttp.decodeResponse(inner).status};
        }""",
        EX,
    )
    assert out["keyId"] == EX["key_id"]
    assert out["suite"] == {"kdfId": 1, "aeadId": 1}
    assert out["enc"] == EX["client_ephemeral_public_key"]
    assert out["message"] == EX["encapsulated_request"]
    assert out["secret"] == EX["response_exported_secret"]
    assert out["salt"] == EX["response_salt"]
    assert out["prk"] == EX["response_prk"]
    assert out["key"] == EX["response_aead_key"]
    assert out["aeadNonce"] == EX["response_aead_nonce"]
    assert out["inner"] == EX["response_bhttp"]
    assert out["status"] == 200


def test_tampered_or_truncated_response_is_rejected(js_page: Any) -> None:
    out = js_page.evaluate(
        """async (ex) => {
          const {ohttp, hex} = await import('/static/sealgate-client.js');
          const H = hex.decode;
          const n = H(ex.key_config).length;
          const list = new Uint8Array([0, n, ...H(ex.key_config)]);
          const {config, suite} = ohttp.selectKeyConfig(ohttp.parseKeyConfigs(list));
          const res = {};
          const attempt = async (name, fn) => {
            try { await fn(); res[name] = 'accepted'; } catch (e) { res[name] = e.name; }
          };
          for (const [name, mutate] of [['nonce', (b) => { b[0] ^= 1; }], ['ct', (b) => { b[20] ^= 1; }],
                                        ['tag', (b) => { b[b.length - 1] ^= 1; }]]) {
            const {context} = await ohttp.encapsulateRequest(config, suite, H(ex.request_bhttp),
                                                             H(ex.client_ephemeral_secret_key));
            const msg = H(ex.encapsulated_response); mutate(msg);
            await attempt(name, () => ohttp.decapsulateResponse(context, msg));
          }
          const {context} = await ohttp.encapsulateRequest(config, suite, H(ex.request_bhttp));  // other ephemeral key
          await attempt('otherKey', () => ohttp.decapsulateResponse(context, H(ex.encapsulated_response)));
          await attempt('short', () => ohttp.decapsulateResponse(context, H(ex.encapsulated_response).subarray(0, 31)));
          return res;
        }""",
        EX,
    )
    assert out == {"nonce": "OperationError", "ct": "OperationError", "tag": "OperationError",
                   "otherKey": "OperationError", "short": "TypeError"}


PARSE = """async (hexes) => {
  const {ohttp, hex} = await import('/static/sealgate-client.js');
  return hexes.map((h) => {
    try {
      const {config, suite} = ohttp.selectKeyConfig(ohttp.parseKeyConfigs(hex.decode(h)));
      return {keyId: config.keyId, aeadId: suite.aeadId};
    } catch (e) { return {error: e.name}; }
  });
}"""


def _cfg(key_id: int, kem: int, suites: list[tuple[int, int]], pk_len: int = 32) -> str:
    algs = b"".join(k.to_bytes(2, "big") + a.to_bytes(2, "big") for k, a in suites)
    body = bytes([key_id]) + kem.to_bytes(2, "big") + bytes(range(1, pk_len + 1)) + len(algs).to_bytes(2, "big") + algs
    return (len(body).to_bytes(2, "big") + body).hex()


def test_key_list_selection(js_page: Any) -> None:
    p256_first = _cfg(7, 0x0010, [(1, 1)], pk_len=65) + _cfg(9, 0x0020, [(1, 1)])
    chacha_only_first = _cfg(3, 0x0020, [(1, 3)]) + _cfg(4, 0x0020, [(1, 3), (1, 2)])
    out = js_page.evaluate(PARSE, [
        p256_first,  # unknown KEM skipped by its length prefix
        chacha_only_first,  # no ChaCha20 in WebCrypto: next config, its first supported suite
        _cfg(5, 0x0020, [(1, 3)]),  # nothing usable
        _cfg(5, 0x0020, [(1, 1)])[:-2],  # truncated list: rejected as a whole
        _cfg(5, 0x0020, [(1, 1)]) + "00",  # trailing garbage after the last config
        _cfg(5, 0x0020, [(1, 1)], pk_len=31),  # wrong public key length
        "",  # empty list
    ])
    assert out[0] == {"keyId": 9, "aeadId": 1}
    assert out[1] == {"keyId": 4, "aeadId": 2}
    assert all(o.get("error") == "TypeError" for o in out[2:]), out
