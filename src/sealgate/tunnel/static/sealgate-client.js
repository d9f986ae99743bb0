/**
 * sealgate-client.js: the browser side of sealgate's encrypted tunnel. ES module, WebCrypto only, no dependencies.
 *
 * API requests are end-to-end encrypted from the page to the gateway with Oblivious HTTP (RFC 9458):
 * the request is encoded as Binary HTTP (RFC 9292), sealed with HPKE (RFC 9180) base mode to the gateway's
 * published key and POSTed to the tunnel endpoint; the gateway answers with an encrypted Binary HTTP response.
 * Suite: DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM (AES-256-GCM also works; no ChaCha20 in WebCrypto).
 *
 *   import sealgate from '/static/sealgate-client.js';
 *   const res = await sealgate.fetch('/api/orders', {method: 'POST', body: JSON.stringify(order)});  // a real Response
 *   sealgate.install({prefixes: ['/api/'], tunnel: '/.sealgate/tunnel', keys: '/.well-known/ohttp-gateway'});
 *   // from now on window.fetch and XMLHttpRequest send same-origin /api/... calls through the tunnel
 *
 * configure({tunnel, keys, keyConfig, verifyKeys}) sets the endpoints; keyConfig (bytes of an application/ohttp-keys
 * body) skips the first key download; verifyKeys(bytes) => Promise<boolean> vets every downloaded key list (the
 * bootloader checks it against its signed manifest). Key lists are in RFC 9540 form (2-byte length before each config).
 * Retries: a problem response whose type ends in "ohttp-key" (key rotated) refetches the keys once; one ending in
 * "/replay" or "#replay" re-encrypts once. Other unencrypted gateway errors (status >= 400) are returned to the caller.
 * Limits: redirects are returned, not followed; Set-Cookie inside the tunnel is dropped by the Response API;
 * statusText is '' (as over HTTP/2); synchronous XHR cannot be tunneled; bodies must be < 1 GiB.
 * Lower layers are exported for tests and tools: hpke, bhttp, ohttp, hex.
 */

const te = new TextEncoder();
const td = new TextDecoder();
const EMPTY = new Uint8Array(0);

// Snapshot the primitives at load time so that page scripts that run later cannot swap them under us.
const S = {};
for (const m of ['importKey', 'exportKey', 'generateKey', 'deriveBits', 'sign', 'encrypt', 'decrypt']) {
  S[m] = crypto.subtle[m].bind(crypto.subtle);
}
const nativeFetch = globalThis.fetch.bind(globalThis);
const NativeXHR = globalThis.XMLHttpRequest;

// ---------------------------------------------------------------------------------- bytes

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
const u16 = (n) => new Uint8Array([n >> 8, n & 255]);
const ascii = (s) => te.encode(s);
// HTTP field values are byte strings: one char per byte, no UTF-8 (TextDecoder('latin1') is really windows-1252).
const latin1 = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);
const fromLatin1 = (b) => Array.from(b, (c) => String.fromCharCode(c)).join('');

export const hex = {
  decode: (s) => Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16)),
  encode: (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''),
};

// ---------------------------------------------------------------------------------- HKDF-SHA256 (RFC 5869)
// WebCrypto's HKDF always runs extract+expand together, and HPKE needs them apart, so both are built on HMAC.

async function hmac(key, data) {
  // An empty salt means HashLen zero bytes (RFC 5869 §2.2); WebCrypto refuses empty HMAC keys, the result is the same.
  const raw = key.length ? key : new Uint8Array(32);
  const k = await S.importKey('raw', raw, {name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
  return new Uint8Array(await S.sign('HMAC', k, data));
}
const hkdfExtract = (salt, ikm) => hmac(salt, ikm);
async function hkdfExpand(prk, info, length) {
  if (length > 255 * 32) throw new RangeError('HKDF-Expand length too large');
  const out = new Uint8Array(length);
  let t = EMPTY;
  for (let i = 1, at = 0; at < length; i++, at += 32) {
    t = await hmac(prk, concat(t, info, [i]));
    out.set(t.subarray(0, Math.min(32, length - at)), at);
  }
  return out;
}

// ---------------------------------------------------------------------------------- HPKE (RFC 9180), base mode
const KEM_X25519 = 0x0020;
const KDF_SHA256 = 0x0001;
const AEADS = {1: {nk: 16, nn: 12}, 2: {nk: 32, nn: 12}}; // AES-128-GCM, AES-256-GCM
const HPKE_V1 = ascii('HPKE-v1');
const KEM_SUITE = concat(ascii('KEM'), u16(KEM_X25519));

const labeledExtract = (suite, salt, label, ikm) => hkdfExtract(salt, concat(HPKE_V1, suite, ascii(label), ikm));
const labeledExpand = (suite, prk, label, info, length) =>
  hkdfExpand(prk, concat(u16(length), HPKE_V1, suite, ascii(label), info), length);

// WebCrypto imports raw X25519 private keys only as PKCS#8: this 16-byte DER prefix + the 32 key bytes = 48 bytes.
const PKCS8_X25519 = hex.decode('302e020100300506032b656e04220420');
const BASE_POINT = Uint8Array.from({length: 32}, (_, i) => (i ? 0 : 9));

async function dh(privateKey, publicBytes) {
  const pub = await S.importKey('raw', publicBytes, {name: 'X25519'}, true, []);
  // Chromium rejects an all-zero shared secret (small-order point), the check RFC 9180 §7.1.4 asks for.
  return new Uint8Array(await S.deriveBits({name: 'X25519', public: pub}, privateKey, 256));
}
async function importKeyPair(sk) {
  const key = await S.importKey('pkcs8', concat(PKCS8_X25519, sk), {name: 'X25519'}, false, ['deriveBits']);
  return {privateKey: key, publicKey: await dh(key, BASE_POINT)}; // X25519(sk, 9) is the public key
}
async function generateKeyPair() {
  const kp = await S.generateKey({name: 'X25519'}, false, ['deriveBits']);
  return {privateKey: kp.privateKey, publicKey: new Uint8Array(await S.exportKey('raw', kp.publicKey))};
}

/** DeriveKeyPair (§7.1.3): {sk, privateKey (CryptoKey), publicKey (bytes)} from >= 32 bytes of keying material. */
async function deriveKeyPair(ikm) {
  if (ikm.length < 32) throw new RangeError('DeriveKeyPair needs at least 32 bytes of ikm');
  const prk = await labeledExtract(KEM_SUITE, EMPTY, 'dkp_prk', ikm);
  const sk = await labeledExpand(KEM_SUITE, prk, 'sk', EMPTY, 32);
  return {sk, ...(await importKeyPair(sk))};
}
async function extractAndExpand(dhBytes, kemContext) {
  const prk = await labeledExtract(KEM_SUITE, EMPTY, 'eae_prk', dhBytes);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', kemContext, 32);
}
/** Encap(pkR): {enc, sharedSecret}; ephemeralSk (32 raw bytes) fixes the ephemeral key for test vectors. */
async function encap(pkR, ephemeralSk) {
  const eph = ephemeralSk ? await importKeyPair(ephemeralSk) : await generateKeyPair();
  const enc = eph.publicKey;
  return {enc, sharedSecret: await extractAndExpand(await dh(eph.privateKey, pkR), concat(enc, pkR))};
}
async function decap(enc, skR) {
  const kp = await importKeyPair(skR);
  return extractAndExpand(await dh(kp.privateKey, enc), concat(enc, kp.publicKey));
}

class Context {
  constructor(suite, key, baseNonce, exporterSecret) {
    Object.assign(this, {suite, key, baseNonce, exporterSecret, seq: 0});
  }
  nonce() { // base_nonce XOR I2OSP(seq, Nn)
    if (this.seq >= Number.MAX_SAFE_INTEGER) throw new RangeError('HPKE message limit reached');
    const n = this.baseNonce.slice();
    for (let i = n.length - 1, s = this.seq; s > 0; i--, s = Math.floor(s / 256)) n[i] ^= s % 256;
    return n;
  }
  async seal(aad, pt) {
    const iv = this.nonce();
    this.seq++; // before the await, so concurrent seals never share a nonce
    return new Uint8Array(await S.encrypt({name: 'AES-GCM', iv, additionalData: aad}, this.key, pt));
  }
  async open(aad, ct) {
    const pt = await S.decrypt({name: 'AES-GCM', iv: this.nonce(), additionalData: aad}, this.key, ct);
    this.seq++; // only after success (RFC 9180 §5.2)
    return new Uint8Array(pt);
  }
  export(exporterContext, length) {
    return labeledExpand(this.suite, this.exporterSecret, 'sec', exporterContext, length);
  }
}

async function keySchedule(aeadId, sharedSecret, info) {
  const aead = AEADS[aeadId];
  if (!aead) throw new TypeError(`unsupported HPKE AEAD ${aeadId}`);
  const suite = concat(ascii('HPKE'), u16(KEM_X25519), u16(KDF_SHA256), u16(aeadId));
  const context = concat([0], // mode_base
    await labeledExtract(suite, EMPTY, 'psk_id_hash', EMPTY), await labeledExtract(suite, EMPTY, 'info_hash', info));
  const secret = await labeledExtract(suite, sharedSecret, 'secret', EMPTY);
  const key = await labeledExpand(suite, secret, 'key', context, aead.nk);
  const baseNonce = await labeledExpand(suite, secret, 'base_nonce', context, aead.nn);
  const exporterSecret = await labeledExpand(suite, secret, 'exp', context, 32);
  const cryptoKey = await S.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return new Context(suite, cryptoKey, baseNonce, exporterSecret);
}

/** SetupBaseS: {enc, context}. opts: {aeadId = 1, ephemeralSk}. */
async function setupBaseS(pkR, info, {aeadId = 1, ephemeralSk} = {}) {
  const {enc, sharedSecret} = await encap(pkR, ephemeralSk);
  return {enc, context: await keySchedule(aeadId, sharedSecret, info)};
}
/** SetupBaseR: the recipient context for enc and the raw private key skR. */
async function setupBaseR(enc, skR, info, {aeadId = 1} = {}) {
  return keySchedule(aeadId, await decap(enc, skR), info);
}

export const hpke = {
  deriveKeyPair, encap, setupBaseS, setupBaseR, hkdfExtract, hkdfExpand, labeledExtract, labeledExpand,
};

// ---------------------------------------------------------------------------------- Binary HTTP (RFC 9292)

function encodeVarint(n) { // QUIC variable-length integer (RFC 9000 §16); 1, 2 or 4 bytes are enough here
  if (n < 0x40) return new Uint8Array([n]);
  if (n < 0x4000) return new Uint8Array([0x40 | (n >> 8), n & 255]);
  if (n < 0x40000000) return new Uint8Array([0x80 | (n >>> 24), (n >> 16) & 255, (n >> 8) & 255, n & 255]);
  throw new RangeError('BHTTP length too large');
}
const vbytes = (b) => concat(encodeVarint(b.length), b);
function encodeFields(fields) {
  const body = concat(...fields.flatMap(([n, v]) => [vbytes(latin1(n.toLowerCase())), vbytes(latin1(v))]));
  return vbytes(body);
}

/** Known-length request (framing indicator 0): {method, scheme, authority, path, headers: [[n, v]], body, trailers}. */
function encodeRequest({method, scheme, authority = '', path, headers = [], body = EMPTY, trailers = []}) {
  return concat([0], ...[method, scheme, authority, path].map((s) => vbytes(ascii(s))),
    encodeFields(headers), vbytes(body), encodeFields(trailers));
}

class Reader {
  constructor(buf) { this.buf = buf; this.at = 0; }
  end() { return this.at >= this.buf.length; }
  take(n) {
    if (n > this.buf.length - this.at) throw new TypeError('BHTTP message truncated');
    return this.buf.subarray(this.at, (this.at += n));
  }
  varint() {
    const first = this.take(1)[0];
    const rest = this.take((1 << (first >> 6)) - 1);
    let v = first & 0x3f;
    for (const b of rest) v = v * 256 + b;
    if (v > Number.MAX_SAFE_INTEGER) throw new TypeError('BHTTP integer too large');
    return v;
  }
  vbytes() { return this.take(this.varint()); }
  u16() { const [a, b] = this.take(2); return (a << 8) | b; }
  fields(known) {
    const out = [];
    if (known) {
      const section = new Reader(this.vbytes());
      while (!section.end()) out.push([fromLatin1(section.vbytes()), fromLatin1(section.vbytes())]);
    } else {
      for (let n; (n = this.varint()) !== 0;) out.push([fromLatin1(this.take(n)), fromLatin1(this.vbytes())]);
    }
    return out;
  }
  content(known) {
    if (known) return this.vbytes().slice();
    const chunks = [];
    for (let n; (n = this.varint()) !== 0;) chunks.push(this.take(n));
    return concat(...chunks);
  }
}

/** Decode a known- (1) or indeterminate-length (3) response, with informational responses, trailers, truncation
 *  (RFC 9292 §3.8) and padding: {status, headers, body, trailers, informational: [{status, headers}], paddingLen}. */
function decodeResponse(buf) {
  const r = new Reader(buf);
  const framing = r.varint();
  if (framing !== 1 && framing !== 3) throw new TypeError('not a Binary HTTP response');
  const known = framing === 1;
  const informational = [];
  let status;
  for (;;) {
    status = r.varint();
    if (status < 100 || status > 599) throw new TypeError(`invalid BHTTP status ${status}`);
    if (status >= 200) break;
    informational.push({status, headers: r.fields(known)});
  }
  const headers = r.end() ? [] : r.fields(known);
  const body = r.end() ? EMPTY : r.content(known);
  const trailers = r.end() ? [] : r.fields(known);
  const padding = r.take(buf.length - r.at);
  if (padding.some((b) => b !== 0)) throw new TypeError('BHTTP padding must be zero bytes');
  return {status, headers, body, trailers, informational, paddingLen: padding.length};
}

export const bhttp = {encodeVarint, encodeRequest, decodeResponse};

// ---------------------------------------------------------------------------------- Oblivious HTTP (RFC 9458)
const REQUEST_TYPE = 'message/ohttp-req';
const RESPONSE_TYPE = 'message/ohttp-res';

/** Parse an application/ohttp-keys body: [{keyId, kemId, publicKey, suites: [{kdfId, aeadId}]}]; a framing error
 *  anywhere rejects the whole list, configs with an unknown KEM are skipped. */
function parseKeyConfigs(buf) {
  const r = new Reader(buf);
  const configs = [];
  while (!r.end()) {
    const c = new Reader(r.take(r.u16()));
    const keyId = c.take(1)[0];
    const kemId = c.u16();
    if (kemId !== KEM_X25519) continue; // skipped whole thanks to the length prefix
    const publicKey = c.take(32).slice();
    const algs = new Reader(c.take(c.u16()));
    if (!c.end() || algs.buf.length < 4 || algs.buf.length % 4) throw new TypeError('malformed OHTTP key config');
    const suites = [];
    while (!algs.end()) suites.push({kdfId: algs.u16(), aeadId: algs.u16()});
    configs.push({keyId, kemId, publicKey, suites});
  }
  return configs;
}
/** The first config and its first suite this client supports: {config, suite}. */
function selectKeyConfig(configs) {
  for (const config of configs) {
    const suite = config.suites.find((s) => s.kdfId === KDF_SHA256 && AEADS[s.aeadId]);
    if (suite) return {config, suite};
  }
  throw new TypeError('sealgate: the gateway offers no key configuration this browser supports');
}

/** Encapsulate a BHTTP request: {message, context}; keep context to decrypt the response. */
async function encapsulateRequest(config, suite, request, ephemeralSk) {
  const hdr = concat([config.keyId], u16(config.kemId), u16(suite.kdfId), u16(suite.aeadId));
  const info = concat(ascii('message/bhttp request'), [0], hdr);
  const {enc, context} = await setupBaseS(config.publicKey, info, {aeadId: suite.aeadId, ephemeralSk});
  const ct = await context.seal(EMPTY, request);
  return {message: concat(hdr, enc, ct), context: {hpke: context, enc, aeadId: suite.aeadId}};
}
/** Decrypt a message/ohttp-res body (RFC 9458 §4.4) into the BHTTP response bytes. */
async function decapsulateResponse(context, msg) {
  const {nk, nn} = AEADS[context.aeadId];
  const nonceLen = Math.max(nk, nn);
  if (msg.length < nonceLen + 16) throw new TypeError('encapsulated response truncated');
  const secret = await context.hpke.export(ascii('message/bhttp response'), nonceLen);
  const prk = await hkdfExtract(concat(context.enc, msg.subarray(0, nonceLen)), secret);
  const key = await S.importKey('raw', await hkdfExpand(prk, ascii('key'), nk), 'AES-GCM', false, ['decrypt']);
  const iv = await hkdfExpand(prk, ascii('nonce'), nn);
  return new Uint8Array(await S.decrypt({name: 'AES-GCM', iv}, key, msg.subarray(nonceLen)));
}

export const ohttp = {parseKeyConfigs, selectKeyConfig, encapsulateRequest, decapsulateResponse};

// ---------------------------------------------------------------------------------- fetch through the tunnel

const settings = {tunnel: '/.sealgate/tunnel', keys: '/.well-known/ohttp-gateway', keyConfig: null, verifyKeys: null};
let keysPromise = null;

export function configure(options = {}) {
  for (const k of Object.keys(settings)) if (options[k] !== undefined) settings[k] = options[k];
  if (options.keys !== undefined || options.keyConfig !== undefined) keysPromise = null;
}

function loadKeys(refresh) {
  if (keysPromise && !refresh) return keysPromise;
  const p = (async () => {
    let raw = !refresh && settings.keyConfig;
    if (!raw) {
      const res = await nativeFetch(settings.keys, {cache: 'no-store', credentials: 'same-origin'});
      if (!res.ok) throw new TypeError(`sealgate: key configuration unavailable (HTTP ${res.status})`);
      raw = new Uint8Array(await res.arrayBuffer());
      if (settings.verifyKeys && !(await settings.verifyKeys(raw))) {
        throw new TypeError('sealgate: the key configuration failed verification');
      }
    }
    return selectKeyConfig(parseKeyConfigs(new Uint8Array(raw)));
  })();
  p.catch(() => { if (keysPromise === p) keysPromise = null; }); // let the next call try again
  return (keysPromise = p);
}

async function problemType(res) {
  if (!/^application\/problem\+json/i.test(res.headers.get('content-type') || '')) return '';
  try { return String((await res.clone().json()).type || ''); } catch { return ''; }
}

function toResponse(msg, url) {
  const headers = new Headers();
  for (const [n, v] of msg.headers) {
    try { headers.append(n, v); } catch { /* an invalid field: dropped, as a browser would */ }
  }
  const nullBody = [204, 205, 304].includes(msg.status); // the Response constructor rejects a body for these
  const res = new Response(nullBody ? null : msg.body, {status: msg.status, headers});
  Object.defineProperty(res, 'url', {value: url});
  return res;
}

/** Like window.fetch, but the request travels encrypted through the sealgate tunnel. Resolves to a real Response. */
export async function sealFetch(input, init) {
  const req = new Request(input, init);
  const url = new URL(req.url);
  const body = new Uint8Array(await req.arrayBuffer());
  const fields = [...req.headers].filter(([n]) => n !== 'date');
  let refreshed = false;
  let replayed = false;
  for (;;) {
    const {config, suite} = await loadKeys(false);
    // A fresh Date on every attempt: the gateway rejects stale ones as replays.
    const inner = encodeRequest({method: req.method, scheme: url.protocol.slice(0, -1), authority: url.host,
      path: url.pathname + url.search, headers: [['date', new Date().toUTCString()], ...fields], body});
    const {message, context} = await encapsulateRequest(config, suite, inner);
    const res = await nativeFetch(settings.tunnel, {method: 'POST', body: message,
      headers: {'content-type': REQUEST_TYPE}, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
      signal: req.signal});
    if (res.ok && (res.headers.get('content-type') || '').toLowerCase().startsWith(RESPONSE_TYPE)) {
      const plain = await decapsulateResponse(context, new Uint8Array(await res.arrayBuffer()));
      return toResponse(decodeResponse(plain), req.url);
    }
    const type = await problemType(res);
    if (/ohttp-key$/.test(type) && !refreshed) { refreshed = true; await loadKeys(true); continue; }
    if (/[/#]replay$/.test(type) && !replayed) { replayed = true; continue; }
    if (res.status >= 400) return res; // an unencrypted gateway error (rate limit, too large, ...): let the app see it
    throw new TypeError(`sealgate: unexpected tunnel response (HTTP ${res.status})`);
  }
}

// ---------------------------------------------------------------------------------- install (fetch + XHR shim)

let restore = null;

/** Route same-origin fetch/XHR calls whose path starts with one of `prefixes` through the tunnel; returns uninstall. */
export function install({prefixes = ['/api/'], tunnel, keys} = {}) {
  configure({tunnel, keys});
  uninstall();
  // The URL parser resolves ../ and %2e%2e before the prefix test, so "/api/../admin" is not a tunnel path.
  const matches = (u) => {
    try {
      const url = new URL(u, location.href);
      return url.origin === location.origin && prefixes.some((p) => url.pathname.startsWith(p));
    } catch { return false; }
  };
  const saved = {fetch: globalThis.fetch, XMLHttpRequest: globalThis.XMLHttpRequest};
  globalThis.fetch = function fetch(input, init) {
    const url = input instanceof Request ? input.url : String(input);
    return matches(url) ? sealFetch(input, init) : nativeFetch(input, init);
  };
  globalThis.XMLHttpRequest = tunnelXHR(matches);
  restore = () => Object.assign(globalThis, saved);
  return uninstall;
}
export function uninstall() { if (restore) { restore(); restore = null; } }

// A subclass of the native XHR: calls to other URLs are the native object untouched; tunneled calls keep their
// state in #t and shadow the native getters, raising the usual events on the object itself.
function tunnelXHR(matches) {
  return class XMLHttpRequest extends NativeXHR {
    #t = null;
    open(...args) {
      if (this.#t && !this.#t.done) this.#t.ctl?.abort();
      this.#t = null;
      const [method, url, async = true] = args;
      if (!matches(String(url))) return super.open(...args); // same arguments: open(m, u, undefined) means sync
      if (!async) throw new DOMException('sealgate: synchronous XHR cannot use the tunnel', 'InvalidAccessError');
      this.#t = {method, url: new URL(url, location.href).href, headers: new Headers(), state: 1, res: null, buf: null};
      this.#fire('readystatechange');
    }
    setRequestHeader(name, value) {
      const t = this.#t;
      if (!t) return super.setRequestHeader(name, value);
      if (t.state !== 1 || t.sent) throw new DOMException('XHR not opened', 'InvalidStateError');
      t.headers.append(name, value);
    }
    send(body = null) {
      const t = this.#t;
      if (!t) return super.send(body);
      if (t.state !== 1 || t.sent) throw new DOMException('XHR not opened', 'InvalidStateError');
      t.sent = true;
      t.ctl = new AbortController();
      const init = {method: t.method, headers: t.headers, signal: t.ctl.signal};
      if (body !== null && !/^(GET|HEAD)$/i.test(t.method)) init.body = body;
      if (this.timeout) t.timer = setTimeout(() => { t.ctl.abort(); this.#end(t, 'timeout'); }, this.timeout);
      this.#fire('loadstart');
      const live = () => !t.done && this.#t === t; // not aborted, timed out or re-opened meanwhile
      sealFetch(t.url, init).then(async (res) => {
        if (!live()) return;
        t.res = res; t.state = 2; this.#fire('readystatechange');
        const buf = await res.arrayBuffer();
        if (!live()) return;
        t.buf = buf; t.state = 3; this.#fire('readystatechange'); this.#fire('progress', buf.byteLength);
        this.#end(t, 'load', buf.byteLength);
      }).catch(() => this.#end(t, 'error'));
    }
    abort() {
      const t = this.#t;
      if (!t) return super.abort();
      if (t.sent && !t.done) { t.ctl.abort(); this.#end(t, 'abort'); }
      t.state = 0; t.res = null; t.buf = null;
    }
    #end(t, type, loaded = 0) {
      if (t.done || this.#t !== t) return;
      t.done = true;
      clearTimeout(t.timer);
      if (type !== 'load') { t.res = null; t.buf = null; }
      t.state = 4;
      this.#fire('readystatechange'); this.#fire(type, loaded); this.#fire('loadend', loaded);
    }
    #fire(type, loaded = 0) {
      this.dispatchEvent(type === 'readystatechange' ? new Event(type)
        : new ProgressEvent(type, {loaded, total: loaded, lengthComputable: loaded > 0}));
    }
    get readyState() { return this.#t ? this.#t.state : super.readyState; }
    get status() { return this.#t ? (this.#t.res?.status ?? 0) : super.status; }
    get statusText() { return this.#t ? (this.#t.res?.statusText ?? '') : super.statusText; }
    get responseURL() { return this.#t ? (this.#t.res ? this.#t.url : '') : super.responseURL; }
    get responseXML() { return this.#t ? null : super.responseXML; }
    get responseText() {
      if (!this.#t) return super.responseText;
      if (this.responseType !== '' && this.responseType !== 'text') {
        throw new DOMException('responseType is not text', 'InvalidStateError');
      }
      return this.#t.buf ? td.decode(this.#t.buf) : '';
    }
    get response() {
      const t = this.#t;
      if (!t) return super.response;
      const type = this.responseType;
      if (type === '' || type === 'text') return this.responseText;
      if (t.state !== 4 || !t.buf) return null;
      if (type === 'json') { try { return JSON.parse(td.decode(t.buf)); } catch { return null; } }
      if (type === 'arraybuffer') return t.buf;
      if (type === 'blob') return new Blob([t.buf], {type: t.res.headers.get('content-type') || ''});
      return null; // 'document' is not supported through the tunnel
    }
    getResponseHeader(name) {
      return this.#t ? (this.#t.res ? this.#t.res.headers.get(name) : null) : super.getResponseHeader(name);
    }
    getAllResponseHeaders() {
      if (!this.#t) return super.getAllResponseHeaders();
      return this.#t.res ? [...this.#t.res.headers].map(([n, v]) => `${n}: ${v}\r\n`).join('') : '';
    }
  };
}

export {sealFetch as fetch};
export default {fetch: sealFetch, install, uninstall, configure, hpke, bhttp, ohttp, hex};
