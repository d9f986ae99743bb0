/* sealgate bootloader: inlined by sealgate into a protected app's HTML in place of its scripts, right after
 * the JSON script element #sealgate-boot (type application/json): {"manifestUrl", "publicKey" (Ed25519 raw, base64url),
 * "clientUrl", "reportUrl", "appName", optional "tunnel", "keys", "prefixes" (default ["/api/"]), "hostile"}.
 * (This file is inlined: it must never contain a closing script tag or an HTML comment opener.)
 * 1. Checks that fetch, XMLHttpRequest and crypto.subtle are the browser's own (report; "hostile": "block" stops).
 * 2. Fetches the manifest {payload, signature} and verifies the Ed25519 signature over the payload bytes; the payload
 *    is JSON {scripts: [{url, sha384, type?}], client: {url, sha384}, keyConfigSha384, issuedAt}. Rollback check:
 *    a manifest older (issuedAt) than the newest this browser verified for the key is refused unless it pins the
 *    same code (localStorage, per signing key).
 * 3. Downloads sealgate-client.js and the key configuration and checks their SHA-384 against the manifest.
 * 4. Imports the client from a blob: URL, downloads every app script THROUGH the tunnel and checks its SHA-384.
 * 5. Only when everything matched: installs the fetch/XHR shim and runs the scripts in order as blob: scripts.
 * Any mismatch: nothing runs, #sealgate-blocked explains, and {kind, detail, url, expected, actual} is POSTed to
 * reportUrl. Needs no 'unsafe-eval'/'unsafe-inline'; CSP: script-src 'sha256-<this script>' blob: (docs/tunnel-csp.md).
 */
(() => {
  'use strict';
  // Take our references before the first await: nothing else can run until then.
  const W = window, D = document, me = D.currentScript;
  const S = W.isSecureContext ? W.crypto.subtle : null; // WebCrypto exists only over HTTPS (or localhost)
  const nativeFetch = W.fetch.bind(W), fnToString = Function.prototype.toString;
  const store = (() => { try { return W.localStorage; } catch { return null; } })(); // null: storage disabled
  const utf8 = new TextDecoder();
  let cfg = {};

  class Tamper extends Error {
    constructor(kind, detail, url = '', expected = '', actual = '') {
      super(detail);
      Object.assign(this, {kind, detail, url, expected, actual});
    }
  }
  const b64 = (s) => Uint8Array.from(W.atob(String(s).replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const norm = (s) => String(s).replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const sha384 = async (bytes) => W.btoa(String.fromCharCode(...new Uint8Array(await S.digest('SHA-384', bytes))));
  const blobUrl = (bytes) => URL.createObjectURL(new Blob([bytes], {type: 'text/javascript'}));

  async function verified(kind, url, expected, bytes) {
    const actual = await sha384(bytes);
    if (!expected || norm(actual) !== norm(expected)) {
      throw new Tamper(kind, 'SHA-384 mismatch', url, String(expected || ''), actual);
    }
    return bytes;
  }
  async function download(url, fetcher = nativeFetch) {
    const res = await fetcher(url, {cache: 'no-store', credentials: 'same-origin'});
    if (!res.ok) throw new Tamper('unavailable', `HTTP ${res.status}`, url);
    return new Uint8Array(await res.arrayBuffer());
  }

  // Native means: found on the object the browser puts it on (nothing shadows it on the prototype chain), and its
  // source is "[native code]" under its own name, which also tells bound functions and Proxy wrappers apart. A script
  // that ran before us and also replaced Function.prototype.toString can still lie; this catches casual patching.
  function findings() {
    const out = [];
    const owner = (o, k) => {
      for (; o; o = Object.getPrototypeOf(o)) { const d = Object.getOwnPropertyDescriptor(o, k); if (d) return [o, d]; }
      return [];
    };
    // Engines differ in whitespace: "{ [native code] }" in Chromium, with newlines in Firefox and Safari.
    const isNative = (f, name) => typeof f === 'function' &&
      new RegExp(`^function ${name}\\(\\) \\{\\s*\\[native code\\]\\s*\\}$`).test(fnToString.call(f));
    const check = (obj, home, k, label) => {
      const [o, d] = owner(obj, k);
      if (o !== home) out.push(`${label} is overridden`);
      else if (!isNative(d.get || d.value, d.get ? `get ${k}` : k)) out.push(`${label} is not native`);
    };
    check(Function.prototype, Function.prototype, 'toString', 'Function.prototype.toString');
    for (const k of ['fetch', 'XMLHttpRequest', 'crypto', 'Crypto', 'SubtleCrypto']) check(W, W, k, `window.${k}`);
    try {
      const XP = W.XMLHttpRequest.prototype, CP = W.Crypto.prototype, SP = W.SubtleCrypto.prototype;
      for (const k of ['open', 'send', 'setRequestHeader']) check(XP, XP, k, `XMLHttpRequest.prototype.${k}`);
      for (const k of ['subtle', 'getRandomValues']) check(W.crypto, CP, k, `crypto.${k}`);
      for (const k of ['importKey', 'exportKey', 'generateKey', 'deriveBits', 'encrypt', 'decrypt', 'sign', 'verify',
        'digest']) check(W.crypto.subtle, SP, k, `crypto.subtle.${k}`);
    } catch { out.push('XMLHttpRequest or crypto is unusable'); }
    return out;
  }

  async function loadManifest() {
    const url = cfg.manifestUrl;
    let m;
    try { m = JSON.parse(utf8.decode(await download(url))); } catch (e) {
      throw e instanceof Tamper ? e : new Tamper('manifest', 'the manifest is not JSON', url);
    }
    let payload, valid = false;
    try {
      payload = b64(m.payload);
      const key = await S.importKey('raw', b64(cfg.publicKey), {name: 'Ed25519'}, false, ['verify']);
      valid = await S.verify({name: 'Ed25519'}, key, b64(m.signature), payload);
    } catch { /* malformed base64 or key: as invalid as a wrong signature */ }
    if (!valid) throw new Tamper('signature', 'the manifest signature is invalid', url);
    const manifest = JSON.parse(utf8.decode(payload));
    checkRollback(manifest, url);
    return manifest;
  }

  // Rollback protection. A validly signed but older manifest (an attacker serving last month's, whose scripts had
  // since-fixed holes) is refused once this browser has verified a newer one for the same signing key. An older
  // manifest pinning the same code is fine: every gateway worker signs its pins when it first serves them, so
  // workers started at different times publish the same code under different issuedAt values.
  function checkRollback(m, url) {
    const issued = m.issuedAt;
    if (!Number.isSafeInteger(issued) || issued < 0) {
      throw new Tamper('manifest', 'the manifest has no valid issuedAt', url);
    }
    const code = JSON.stringify([(m.scripts || []).map((s) => [s.url, s.sha384, s.type || '']), m.client?.sha384]);
    const slot = `sealgate-manifest:${cfg.publicKey}`;
    let seen = null;
    try { seen = JSON.parse(store.getItem(slot)); } catch { /* nothing stored, or storage disabled */ }
    if (seen && Number.isSafeInteger(seen.issuedAt)) {
      if (issued < seen.issuedAt && code !== seen.code) {
        throw new Tamper('rollback', 'the manifest is older than one this browser already verified', url,
          `issuedAt >= ${seen.issuedAt}`, `issuedAt ${issued}`);
      }
      if (issued <= seen.issuedAt) return;
    }
    try { store.setItem(slot, JSON.stringify({issuedAt: issued, code})); } catch { /* storage full or disabled */ }
  }

  function report(t) {
    if (!cfg.reportUrl) return;
    const body = JSON.stringify({kind: t.kind, detail: t.detail, url: t.url, expected: t.expected, actual: t.actual});
    nativeFetch(cfg.reportUrl, {method: 'POST', body, keepalive: true, credentials: 'same-origin',
      headers: {'content-type': 'application/json'}}).catch(() => {});
  }

  const domReady = new Promise((resolve) => {
    if (D.readyState === 'loading') D.addEventListener('DOMContentLoaded', resolve, {once: true}); else resolve();
  });

  function block(t) {
    const el = D.createElement('div');
    el.id = 'sealgate-blocked';
    el.setAttribute('role', 'alert');
    el.textContent = `${cfg.appName || 'This application'} was not started because a security check failed: ` +
      `${t.detail}${t.url ? ` (${t.url})` : ''}. The problem has been reported. ` +
      'Please reload later or contact the site.';
    // CSSOM, not a style attribute: allowed without 'unsafe-inline' in style-src.
    Object.assign(el.style, {position: 'fixed', inset: '0 0 auto 0', zIndex: '2147483647', padding: '1em',
      background: '#b00020', color: '#fff', font: '16px/1.4 system-ui, sans-serif'});
    domReady.then(() => D.body.prepend(el));
  }

  // Scripts run one after another, as script elements pointing at blob: URLs of the verified bytes.
  const run = (s) => new Promise((resolve, reject) => {
    const el = D.createElement('script'), url = blobUrl(s.bytes);
    if (s.type === 'module') el.type = 'module';
    el.async = false;
    el.onload = () => { URL.revokeObjectURL(url); resolve(); };
    el.onerror = () => reject(new Tamper('script-load', 'a script failed to load', s.url));
    el.src = url;
    D.head.appendChild(el);
  });

  async function main() {
    // Our parameters are the block sealgate put right before us, and it must be the only one on the page:
    // injected markup must not supply its own key or manifest (it would win a getElementById lookup).
    const boot = me && me.previousElementSibling;
    if (!boot || boot.id !== 'sealgate-boot') {
      throw new Tamper('boot', 'the boot parameters are missing', W.location.href);
    }
    cfg = JSON.parse(boot.textContent);
    if (D.querySelectorAll('#sealgate-boot').length !== 1) {
      throw new Tamper('boot', 'the boot parameters are duplicated', W.location.href);
    }
    if (!S) throw new Tamper('insecure-context', 'the page was not loaded over HTTPS', W.location.href);
    const found = findings();
    if (found.length) {
      const t = new Tamper('hostile-environment', found.join('; '), W.location.href);
      if (cfg.hostile === 'block') throw t;
      report(t);
    }
    let manifest = await loadManifest();
    const keysUrl = cfg.keys || '/.well-known/ohttp-gateway';
    const client = await verified('client-hash', cfg.clientUrl, manifest.client?.sha384, await download(cfg.clientUrl));
    const keyConfig = await verified('key-config-hash', keysUrl, manifest.keyConfigSha384, await download(keysUrl));
    const clientUrl = blobUrl(client);
    const sealgate = await import(clientUrl);
    URL.revokeObjectURL(clientUrl);
    sealgate.configure({tunnel: cfg.tunnel, keys: keysUrl, keyConfig, async verifyKeys(raw) {
      // After a key rotation the client refetches the keys; a newly signed manifest must vouch for them.
      const actual = norm(await sha384(raw));
      if (actual === norm(manifest.keyConfigSha384)) return true;
      manifest = await loadManifest();
      if (actual === norm(manifest.keyConfigSha384)) return true;
      report(new Tamper('key-config-hash', 'refetched key configuration is not in the manifest', keysUrl,
        String(manifest.keyConfigSha384 || ''), actual));
      return false;
    }});
    const scripts = await Promise.all((manifest.scripts || []).map(async (s) => ({...s,
      bytes: await verified('script-hash', s.url, s.sha384, await download(s.url, sealgate.fetch))})));
    sealgate.install({prefixes: cfg.prefixes || ['/api/'], tunnel: cfg.tunnel, keys: keysUrl});
    W.sealgate = Object.freeze({fetch: sealgate.fetch}); // explicit tunnel calls; configure() stays private
    await domReady;
    for (const s of scripts) await run(s);
    // The app's scripts ran after DOMContentLoaded (and maybe load): fire them once more so the usual
    // "start on DOMContentLoaded/load" code still runs. Only the app's own listeners can be waiting for them.
    D.dispatchEvent(new Event('DOMContentLoaded', {bubbles: true}));
    if (D.readyState === 'complete') W.dispatchEvent(new Event('load'));
  }

  main().catch((e) => {
    const t = e instanceof Tamper ? e : new Tamper('error', String(e && e.message || e), W.location.href);
    report(t);
    block(t);
  });
})();
