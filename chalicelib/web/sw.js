/* The checkpoint page's service worker: the page loads, and verifies, when the network or the API is gone.
 *
 * - the page (network first, within PAGE_TIMEOUT_MS, else the cached copy) and its assets (pinned by content
 *   hash: cache first) are kept, so a reload or a restart of the device finds the page;
 * - the JWKS and the provinces' trust list: network first, else the cached copy, marked with when it was
 *   fetched (X-HC-Fetched-At, epoch ms): the page verifies offline with keys at most a day old
 *   (docs/provinces.md "Verifying our QR tokens offline");
 * - every other request (the API) goes to the network untouched.
 * Served at web/sw.js with `Service-Worker-Allowed: ../`, so that it controls the page one folder up; every URL
 * here is relative to it, so it works at the root and under API Gateway's stage prefix alike. */
"use strict";

const SHELL = "hc-checkpoint-shell-v1";
const KEYS = "hc-checkpoint-keys-v1";
const PAGE_TIMEOUT_MS = 2500;
const BASE = new URL("../", self.location.href);
const PAGE = new URL("checkpoint", BASE).href;
const KEY_URLS = [new URL(".well-known/jwks.json", BASE).href, new URL(".well-known/province-keys.json", BASE).href];
const ASSETS = new URL("web/", BASE).href;

async function cacheShell() {
  const cache = await caches.open(SHELL);
  const response = await fetch(PAGE, {cache: "no-store"});
  if (!response.ok) return;
  const html = await response.clone().text();
  await cache.put(PAGE, response);
  const assets = [...html.matchAll(/(?:src|href)="(web\/[^"]+)"/g)].map((m) => new URL(m[1], BASE).href);
  await Promise.all(assets.map(async (url) => {
    if (!(await cache.match(url))) await cache.add(url);
  }));
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().catch(() => null).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

async function page(request) {
  const cache = await caches.open(SHELL);
  try {
    const response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
    if (response.ok) {
      await cache.put(PAGE, response.clone());
      cacheShell().catch(() => null);      // new assets of a new deploy
      return response;
    }
    const cached = await cache.match(PAGE);
    return cached || response;
  } catch (e) {
    const cached = await cache.match(PAGE);
    if (cached) return cached;
    throw e;
  }
}

async function asset(request) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).searchParams.has("v")) await cache.put(request, response.clone());
  return response;
}

async function keys(request) {
  const cache = await caches.open(KEYS);
  try {
    const response = await withTimeout(fetch(request, {cache: "no-store"}), PAGE_TIMEOUT_MS);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.clone().arrayBuffer();
    const headers = new Headers(response.headers);
    headers.set("X-HC-Fetched-At", String(Date.now()));
    await cache.put(request.url, new Response(body, {status: 200, headers}));
    return response;
  } catch (e) {
    const cached = await cache.match(request.url);
    if (cached) return cached;
    throw e;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = request.url.split("#")[0];
  if (url.split("?")[0] === PAGE) event.respondWith(page(request));
  else if (KEY_URLS.includes(url.split("?")[0])) event.respondWith(keys(request));
  else if (url.startsWith(ASSETS) && !url.startsWith(`${ASSETS}sw.js`)) event.respondWith(asset(request));
});
