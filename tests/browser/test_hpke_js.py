"""sealgate-client.js HPKE (RFC 9180 base mode) against the RFC 9180 Appendix A vectors, run in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tunnel._vectors import load

pytestmark = pytest.mark.browser

VECTORS = {v["aead_id"]: v for v in load("hpke-rfc9180-x25519.json")["vectors"]}

RUN_VECTOR = """async (v) => {
  const {hpke, hex} = await import('/static/sealgate-client.js');
  const H = hex.decode, X = hex.encode;
  const e = await hpke.deriveKeyPair(H(v.ikmE)), r = await hpke.deriveKeyPair(H(v.ikmR));
  const {enc, sharedSecret} = await hpke.encap(r.publicKey, e.sk);
  const {enc: enc2, context} = await hpke.setupBaseS(r.publicKey, H(v.info), {aeadId: v.aead_id, ephemeralSk: e.sk});
  const nonces = [], seals = [];
  for (const x of v.encryptions) {
    nonces.push(X(context.nonce()));
    seals.push(X(await context.seal(H(x.aad), H(x.pt))));
  }
  const rc = await hpke.setupBaseR(enc, r.sk, H(v.info), {aeadId: v.aead_id});
  const opens = [];
  for (const x of v.encryptions) opens.push(X(await rc.open(H(x.aad), H(x.ct))));
  const exports = [];
  for (const x of v.exports) exports.push(X(await context.export(H(x.exporter_context), x.L)));
  return {skE: X(e.sk), pkE: X(e.publicKey), skR: X(r.sk), pkR: X(r.publicKey), enc: X(enc), enc2: X(enc2),
          shared: X(sharedSecret), nonces, seals, opens, exports};
}"""


@pytest.mark.parametrize("aead_id", [1, 2], ids=["aes128gcm", "aes256gcm"])
def test_rfc9180_vector(js_page: Any, aead_id: int) -> None:
    v = VECTORS[aead_id]
    out = js_page.evaluate(RUN_VECTOR, v)
    assert (out["skE"], out["pkE"]) == (v["skEm"], v["pkEm"])
    assert (out["skR"], out["pkR"]) == (v["skRm"], v["pkRm"])
    assert out["enc"] == out["enc2"] == v["enc"]
    assert out["shared"] == v["shared_secret"]
    # All 257 encryptions: sequence numbers past 255 carry into the next nonce byte.
    assert len(v["encryptions"]) == 257
    assert out["nonces"] == [x["nonce"] for x in v["encryptions"]]
    assert out["seals"] == [x["ct"] for x in v["encryptions"]]
    assert out["opens"] == [x["pt"] for x in v["encryptions"]]
    assert out["exports"] == [x["exported_value"] for x in v["exports"]]


def test_open_rejects_tampering_and_keeps_sequence(js_page: Any) -> None:
    v = VECTORS[1]
    out = js_page.evaluate(
        """async (v) => {
          const {hpke, hex} = await import('/static/sealgate-client.js');
          const H = hex.decode, x = v.encryptions[0];
          const r = await hpke.deriveKeyPair(H(v.ikmR));
          const ctx = await hpke.setupBaseR(H(v.enc), r.sk, H(v.info), {aeadId: 1});
          const res = {};
          const attempt = async (name, fn) => {
            try { await fn(); res[name] = 'ok'; } catch (e) { res[name] = e.name; }
          };
          const flipped = H(x.ct); flipped[3] ^= 1;
          await attempt('flipped', () => ctx.open(H(x.aad), flipped));
          await attempt('aad', () => ctx.open(H('00'), H(x.ct)));
          res.seqAfterFailures = ctx.seq;
          res.genuine = hex.encode(await ctx.open(H(x.aad), H(x.ct)));
          const wrongInfo = await hpke.setupBaseR(H(v.enc), r.sk, H('00'), {aeadId: 1});
          await attempt('info', () => wrongInfo.open(H(x.aad), H(x.ct)));
          await attempt('chacha', () => hpke.setupBaseS(r.publicKey, H(v.info), {aeadId: 3}));
          await attempt('shortIkm', () => hpke.deriveKeyPair(new Uint8Array(31)));
          // A small-order public key (all zero) gives an all-zero DH output, which must be refused.
          await attempt('zeroPoint', () => hpke.encap(new Uint8Array(32)));
          return res;
        }""",
        v,
    )
    assert out["flipped"] == "OperationError"
    assert out["aad"] == "OperationError"
    assert out["seqAfterFailures"] == 0
    assert out["genuine"] == v["encryptions"][0]["pt"]
    assert out["info"] == "OperationError"
    assert out["chacha"] == "TypeError"
    assert out["shortIkm"] == "RangeError"
    assert out["zeroPoint"] != "ok"


def test_generated_ephemeral_keys_differ_and_interoperate(js_page: Any) -> None:
    out = js_page.evaluate(
        """async () => {
          const {hpke, hex} = await import('/static/sealgate-client.js');
          const r = await hpke.deriveKeyPair(crypto.getRandomValues(new Uint8Array(32)));
          const info = new TextEncoder().encode('info');
          const a = await hpke.setupBaseS(r.publicKey, info), b = await hpke.setupBaseS(r.publicKey, info);
          const ct = await a.context.seal(new Uint8Array(0), new TextEncoder().encode('hello'));
          const rc = await hpke.setupBaseR(a.enc, r.sk, info);
          const pt = new TextDecoder().decode(await rc.open(new Uint8Array(0), ct));
          return {a: hex.encode(a.enc), b: hex.encode(b.enc), pt};
        }"""
    )
    assert out["a"] != out["b"]
    assert len(out["a"]) == 64
    assert out["pt"] == "hello"
