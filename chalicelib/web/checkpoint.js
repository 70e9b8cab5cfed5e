/* The checkpoint's page: log in with client credentials, scan or paste a code, see the result full screen.
 * Offline (issue 17): when the API is unreachable, answers 503 (or 502/504), or takes longer than
 * ONLINE_TIMEOUT_MS, the token is verified here (web/offline.js) with the cached JWKS and trust list, shown as an
 * offline answer, and queued in IndexedDB with its temperature; the queue is uploaded to
 * POST /v1/verifications/batch when the API answers again. docs/provinces.md and README say the limits.
 * Paper codes offline: the signed revocation list is fetched every `next_update` and when back online, and a
 * paper code on it is refused as revoked (docs/identity.md "The revocation list"). Entry rules offline: the
 * signed rule set is cached with the keys; the checkpoint's rule (named in its last access token) is applied to
 * the token's signed color, and a test or dose requirement is shown as "check in person", never as admitted
 * (docs/tests-and-vaccinations.md "Checkpoints with entry rules"). */
"use strict";

(() => {
  const {api, getJson, showError, el, REFUSALS, cst, load, save} = HC;
  const $ = (selector, root = document) => root.querySelector(selector);
  const KEY = "hc.checkpoint";
  const GATE = /^[A-Za-z0-9_\-.:]{1,64}$/;
  const VERDICTS = {
    green: ["✓", "绿码 · 通行", "Green — let through"],
    yellow: ["!", "黄码 · 请核查", "Yellow — check before letting through"],
    red: ["✕", "红码 · 禁止通行", "Red — do not let through; call epidemic prevention staff"],
  };

  const ONLINE_TIMEOUT_MS = 2500;            // longer than this, and the scan is verified offline
  const OFFLINE_FOR_MS = 30000;              // after a failure, scans go straight to offline for this long ...
  const PROBE_EVERY_MS = 5000;               // ... while the API is probed this often (and the queue uploaded)
  const KEYS_MAX_AGE_MS = 24 * 3600 * 1000;  // cached keys verify offline for a day after they were fetched
  const KEYS_REFRESH_MS = 10 * 60 * 1000;
  const UPLOAD_BATCH = 200;                  // the batch route's maximum
  const KEYS_STORE = "hc.keys";              // localStorage: {jwks, trust_list, entry_rules (JWS), fetched_at (ms)}
  const REVOCATIONS_STORE = "hc.paper-revocations";  // {sequence, entries: {number: exp}, next_update, iat, fetched_at}
  const REVOCATIONS_MAX_AGE_MS = KEYS_MAX_AGE_MS;    // an older list (or none): paper codes are not verified offline
  const REVOCATIONS_CHECK_MS = 30 * 1000;            // how often the page looks whether `next_update` has come
  const RULE_STORE = "hc.rule";              // localStorage: {client_id, rule_id}, from the last access token

  let session = load(KEY);   // {token, expires_at (ms), client_id, checkpoint_id}
  let secret = null;         // the client secret, in memory only: renews the 15-minute access token while open
  let stream = null;         // the camera
  let scanning = false;

  function show(name) {
    $("#screen-login").hidden = name !== "login";
    $("#screen-scan").hidden = name !== "scan";
    $("#logout").hidden = name === "login";
    document.body.dataset.screen = name;
  }

  function start() {
    const loggedIn = session && session.token && (session.expires_at > Date.now() || secret);
    if (!session || (!loggedIn && !offlineSince)) return showLogin(session ? "登录已过期，请重新登录。" : null);
    $("#where").replaceChildren("通道 Gate ", el("strong", {text: session.checkpoint_id}),
                                session.client_id ? ` · ${session.client_id}` : " · 离线 offline");
    show("scan");
    renderStatus();
    $("#verify-form").token.focus();
  }

  function showLogin(reason) {
    stopCamera();
    show("login");
    const form = $("#login-form");
    if (session) form.client_id.value = session.client_id;
    form.checkpoint_id.value = form.checkpoint_id.value || localStorage.getItem("hc.gate") || "";
    showError($(".error", form), reason || null);
    renderStatus();
  }

  async function token(clientId, clientSecret) {
    const body = await getJson("v1/oauth/token", {method: "POST", form: {
      grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret}});
    rememberRule(clientId, body.access_token);
    return {token: body.access_token, expires_at: Date.now() + (body.expires_in - 30) * 1000};
  }

  // the checkpoint's entry rule, as its access token names it (claim `er`): what the page applies offline
  async function rememberRule(clientId, accessToken) {
    try {
      const payload = accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload + "===".slice((payload.length + 3) % 4)),
                                                                         (c) => c.charCodeAt(0))));
      const ruleId = claims.er ? await HCOffline.ruleId(claims.er) : null;
      localStorage.setItem(RULE_STORE, JSON.stringify({client_id: clientId, rule_id: ruleId}));
    } catch (e) { /* not a token we can read: keep what we knew */ }
  }

  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), data = new FormData(form);
    showError(box, null);
    const clientId = data.get("client_id").trim(), clientSecret = data.get("client_secret").trim();
    const gate = data.get("checkpoint_id").trim();
    if (!GATE.test(gate)) {
      return showError(box, "通道编号只能包含字母、数字和 - _ . : ，最长64位。Gate: letters, digits, - _ . : only.");
    }
    form.classList.add("busy");
    try {
      session = {...(await token(clientId, clientSecret)), client_id: clientId, checkpoint_id: gate};
      secret = clientSecret;
      save(KEY, session);
      localStorage.setItem("hc.gate", gate);
      form.client_secret.value = "";
      offlineSince = 0;
      start();
      refreshKeys().then(refreshRevocations);
      upload();
    } catch (e) {
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });

  $("#logout").addEventListener("click", () => {
    session = null; secret = null;
    save(KEY, null);
    showLogin();
  });

  // the API is down and there is no login: keep the gate moving offline; the queue waits for a log-in
  $("#offline-start").addEventListener("click", () => {
    const gate = $("#login-form").checkpoint_id.value.trim() || localStorage.getItem("hc.gate") || "";
    if (!GATE.test(gate)) return showError($(".error", $("#login-form")), "请填写通道编号。Enter the gate or lane first.");
    localStorage.setItem("hc.gate", gate);
    session = {...(session || {}), checkpoint_id: gate};
    save(KEY, session);
    goOffline();
    start();
  });

  async function ensureToken() {
    if (session.expires_at > Date.now()) return;
    if (!secret) throw new HC.ApiError(401, "token_expired", "", []);
    Object.assign(session, await token(session.client_id, secret));
    save(KEY, session);
  }

  // --- verify ---------------------------------------------------------------------------------------------------
  const form = $("#verify-form");

  async function verify(scanned) {
    const box = $(".error", form);
    showError(box, null);
    const text = (scanned || "").trim();
    if (!text) return showError(box, "请先扫码或粘贴二维码内容。Scan or paste a code first.");
    // one key for the scan, online and in the offline queue: a late online answer and the upload are one row
    const request = {token: text, checkpoint_id: session.checkpoint_id, scan_key: HC.randomKey()};
    const temperature = form.temperature.value.trim();
    if (temperature) request.temperature = Number(temperature);
    form.classList.add("busy");
    try {
      if (offlineSince && Date.now() - offlineSince < OFFLINE_FOR_MS) return await verifyOffline(request);
      let outcome;
      try {
        outcome = await verifyOnline(request);
      } catch (e) {
        if (!unreachable(e)) throw e;
        goOffline();
        return await verifyOffline(request);
      }
      backOnline();
      showResult(outcome, request.temperature);
    } catch (e) {
      if (e.status === 401) return showLogin(e);
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  }

  // the API cannot answer now: no connection, an overloaded gateway, or slower than the limit
  function unreachable(e) {
    return e instanceof HC.ApiError && [0, 502, 503, 504].includes(e.status) || (e && e.name === "TimeoutError");
  }

  async function withTimeout(call) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ONLINE_TIMEOUT_MS);
    try {
      return await call(controller.signal);
    } catch (e) {
      if (controller.signal.aborted) { const t = new Error("timeout"); t.name = "TimeoutError"; throw t; }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async function verifyOnline(request) {
    if (!session.token) throw new HC.ApiError(0, "network", "not logged in", []);   // logged in offline only
    return withTimeout(async (signal) => {
      await ensureToken();
      try {
        return await getJson("v1/verifications", {method: "POST", json: request, token: session.token, signal});
      } catch (e) {
        if (e.status !== 401 || !secret) throw e;
        session.expires_at = 0;          // revoked or expired early: renew once and try again
        await ensureToken();
        return getJson("v1/verifications", {method: "POST", json: request, token: session.token, signal});
      }
    });
  }

  // --- offline: cached keys, the verifier, the queue --------------------------------------------------------------
  let offlineSince = 0;
  let probe = null;

  function goOffline() {
    offlineSince = Date.now();
    document.body.dataset.network = "offline";
    if (!probe) probe = setInterval(tryBack, PROBE_EVERY_MS);
    renderStatus();
  }

  async function backOnline() {
    if (!offlineSince && !probe) return;
    offlineSince = 0;
    document.body.dataset.network = "online";
    renderStatus();
    refreshKeys().then(refreshRevocations);
    await upload();
    if (!offlineSince && probe && !(await queued()).length) { clearInterval(probe); probe = null; }
  }

  // while offline: is the API back? (the JWKS: public, cheap, and what the page needs anyway)
  async function tryBack() {
    try {
      await reachable();
    } catch (e) {
      offlineSince = Math.max(offlineSince, Date.now() - OFFLINE_FOR_MS + PROBE_EVERY_MS + 500);   // stay offline
      return;
    }
    await backOnline();
  }

  // the API answers: the JWKS from the network, not the service worker's copy (which says when it was fetched)
  async function reachable() {
    const res = await withTimeout((signal) => HC.api(".well-known/jwks.json", {signal}));
    if (res.headers.get("X-HC-Fetched-At")) throw new HC.ApiError(0, "network", "the service worker's copy", []);
  }

  function cachedKeys() {
    try { return JSON.parse(localStorage.getItem(KEYS_STORE) || "null"); } catch (e) { return null; }
  }

  async function refreshKeys() {
    try {
      const [jwksRes, trustRes] = await Promise.all([HC.api(".well-known/jwks.json"),
                                                     HC.api(".well-known/province-keys.json")]);
      // a copy the service worker answered from its cache says when it was fetched
      const fetched = Number(jwksRes.headers.get("X-HC-Fetched-At")) || Date.now();
      const entry = {jwks: await jwksRes.json(), trust_list: await trustRes.json(), fetched_at: fetched};
      const known = cachedKeys();
      // the signed rule set goes with the keys that verify it; checked here and again at each use (its `exp`)
      entry.entry_rules = known && known.entry_rules || null;
      try {
        const rules = await HC.api(".well-known/entry-rules.jws");
        const text = rules.ok ? await rules.text() : null;
        if (text && await HCOffline.ruleSet(text, entry.jwks)) entry.entry_rules = text;
      } catch (e) { /* not fetched, or does not verify: keep the set we had */ }
      if (!known || entry.fetched_at >= known.fetched_at) localStorage.setItem(KEYS_STORE, JSON.stringify(entry));
    } catch (e) { /* offline: keep the copy we have */ }
    renderStatus();
  }

  function heldRevocations() {
    try { return JSON.parse(localStorage.getItem(REVOCATIONS_STORE) || "null"); } catch (e) { return null; }
  }

  // the paper codes' revocation list, from the sequence held on: a page that does not verify (or answers another
  // `since`) is not used, and the list held is kept
  let fetchingRevocations = false;
  async function refreshRevocations() {
    const keys = cachedKeys();
    if (fetchingRevocations || offlineSince || !keys) return;
    fetchingRevocations = true;
    try {
      let held = heldRevocations() || {sequence: 0, entries: {}};
      for (let page = 0; page < 50; page++) {
        const res = await HC.api(`.well-known/paper-revocations.jws?since=${encodeURIComponent(held.sequence)}`);
        if (!res.ok) break;
        const next = await HCOffline.revocations(await res.text(), keys.jwks, held);
        held = {...next, fetched_at: Date.now()};
        localStorage.setItem(REVOCATIONS_STORE, JSON.stringify(held));
        if (next.complete) break;
      }
    } catch (e) { /* offline, or a list that does not verify: keep the one held */ }
    fetchingRevocations = false;
    renderStatus();
  }

  // the rule set's entry for this checkpoint's rule: {rule} to apply, {none: true} without a rule, {} unknown
  async function offlineRule(keys, now) {
    let known = null;
    try { known = JSON.parse(localStorage.getItem(RULE_STORE) || "null"); } catch (e) { /* none */ }
    if (!known || !known.rule_id) return {none: true};
    try {
      const set = await HCOffline.ruleSet(keys.entry_rules, keys.jwks, now);
      const rule = set.rules.find((r) => r.rule_id === known.rule_id);
      return rule ? {rule} : {rule_id: known.rule_id};
    } catch (e) {
      return {rule_id: known.rule_id};
    }
  }

  async function verifyOffline(request) {
    const keys = cachedKeys();
    const now = Math.floor(Date.now() / 1000);
    if (!keys || Date.now() - keys.fetched_at > KEYS_MAX_AGE_MS) {
      return showResult({valid: false, reason: "keys_too_old", checked_at: now, offline: true}, request.temperature);
    }
    const revocations = heldRevocations();
    const listFresh = revocations && Date.now() - revocations.fetched_at <= REVOCATIONS_MAX_AGE_MS;
    let outcome = await HCOffline.verify(request.token, {jwks: keys.jwks, trustList: keys.trust_list,
                                                         revoked: listFresh ? Object.keys(revocations.entries) : []}, now);
    if (outcome.valid && outcome.paper && !listFresh) outcome = {valid: false, reason: "revocations_too_old"};
    outcome.checked_at = now;
    outcome.offline = true;
    if (outcome.paper) outcome.revocations_at = revocations.iat;
    if (outcome.valid) {
      const found = await offlineRule(keys, now);
      if (found.rule) {
        Object.assign(outcome, HCOffline.judge(found.rule, outcome));
      } else if (!found.none) {   // a rule the cached set does not hold (or no valid set): nothing is admitted
        Object.assign(outcome, {admit: null, rule_id: found.rule_id, unmet: [], unchecked: [{
          code: "entry_rule_unknown", message: "入口规则离线不可用，需人工核验全部要求",
          message_en: "The entry rule is not available offline: check every requirement in person"}]});
      }
      outcome.fever = request.temperature !== undefined && request.temperature >= 37.3;
      await enqueue({scan_key: request.scan_key, token: request.token, checkpoint_id: request.checkpoint_id,
                     scanned_at: now, ...(request.temperature !== undefined ? {temperature: request.temperature} : {}),
                     ...(outcome.color ? {offline_color: outcome.color} : {})});
    }
    showResult(outcome, request.temperature);
  }

  // IndexedDB: the queue survives a reload and a restart; an item leaves it only when the server recorded it,
  // had it already, or refused it for good
  let dbPromise = null;
  function db() {
    dbPromise = dbPromise || new Promise((resolve, reject) => {
      const open = indexedDB.open("hc-checkpoint", 1);
      open.onupgradeneeded = () => open.result.createObjectStore("queue", {keyPath: "scan_key"});
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    return dbPromise;
  }
  async function store(mode, work) {
    const database = await db();
    return new Promise((resolve, reject) => {
      const tx = database.transaction("queue", mode);
      const result = work(tx.objectStore("queue"));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const enqueue = async (item) => { await store("readwrite", (q) => q.put(item)); renderStatus(); };
  const queued = () => store("readonly", (q) => q.getAll());
  const dequeue = (keys) => store("readwrite", (q) => keys.forEach((k) => q.delete(k)));

  let uploading = false;
  async function upload() {
    if (uploading) return;
    uploading = true;
    try {
      let waiting = await queued();
      while (waiting.length) {
        if (!session || !session.token || (session.expires_at <= Date.now() && !secret)) {
          renderStatus("login");      // the queue stays until the gate keeper logs in again
          return;
        }
        await ensureToken();
        const batch = waiting.slice(0, UPLOAD_BATCH);
        const answer = await getJson("v1/verifications/batch", {method: "POST", token: session.token, json: {
          scans: batch.map(({scan_key, token, checkpoint_id, temperature, scanned_at, offline_color}) => (
            {scan_key, token, checkpoint_id, scanned_at, ...(temperature !== undefined ? {temperature} : {}),
             ...(offline_color ? {offline_color} : {})}))}});
        await dequeue(answer.results.map((r) => r.scan_key));   // recorded, duplicate or refused: all final
        lastUpload = answer;
        waiting = await queued();
        renderStatus();
      }
    } catch (e) {
      if (e.status === 401) renderStatus("login");
      else if (unreachable(e) || e.status === 429) goOffline();
    } finally {
      uploading = false;
      renderStatus();
    }
  }
  let lastUpload = null;

  async function renderStatus(need) {
    const bar = $("#net-status");
    let count = 0;
    try { count = (await queued()).length; } catch (e) { /* no IndexedDB */ }
    const keys = cachedKeys();
    const offline = Boolean(offlineSince);
    bar.dataset.state = offline ? "offline" : "online";
    bar.dataset.queued = String(count);
    $("#queue-count").textContent = String(count);
    $("#net-mode").textContent = offline ? "离线核验模式 · Offline mode" : "在线 · Online";
    const age = keys ? Date.now() - keys.fetched_at : Infinity;
    $("#keys-age").textContent = !keys ? "无离线密钥 · no offline keys"
      : age > KEYS_MAX_AGE_MS ? "离线密钥已过期 · offline keys too old"
      : `离线密钥 ${HC.cst(Math.floor(keys.fetched_at / 1000)).slice(11)} · keys fetched`;
    const revocations = heldRevocations();
    $("#revocations-age").textContent = !revocations ? "无纸质码撤销名单 · no paper-code revocations"
      : Date.now() - revocations.fetched_at > REVOCATIONS_MAX_AGE_MS ? "纸质码撤销名单已过期 · revocations too old"
      : `撤销名单 ${HC.cst(revocations.iat).slice(11)} · revocations as of ${HC.cst(revocations.iat).slice(11, 16)}`;
    const needLogin = count > 0 && (need === "login" || !session || !session.token ||
                                    (session.expires_at <= Date.now() && !secret));
    $("#queue-login").hidden = !needLogin || !$("#screen-login").hidden;
    $("#offline-start").hidden = !(keys && (offline || await apiDown()));
    bar.hidden = false;
  }

  let downChecked = null;
  async function apiDown() {
    if (downChecked === null) {
      downChecked = reachable().then(() => false, () => true);
    }
    return downChecked;
  }

  $("#queue-login").addEventListener("click", () => showLogin("请登录以上传离线核验记录。Log in to upload the offline scans."));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    verify(form.token.value);
  });
  // a handheld scanner types the token and presses Enter; tokens have no line breaks
  form.token.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      verify(form.token.value);
    }
  });

  const OFFLINE_REFUSALS = {
    keys_too_old: ["无法离线核验", "Cannot verify offline", "离线密钥超过24小时或尚未下载，请恢复网络后核验。",
                   "The cached keys are over 24 hours old, or were never fetched: verify online when the network is back."],
    unsupported_offline: ["无法离线核验", "Cannot verify offline", "此浏览器不支持该省签名算法，请人工核查。",
                          "This browser cannot check this province's signature offline. Check in person."],
    unknown_province: ["无法核验的省级码", "Unknown province", "该省未登记密钥，请人工核查。", "The province registered no keys. Check in person."],
    key_revoked: ["省级签发密钥已撤销", "Revoked province key", "请勿放行，请人工核查。", "Do not let through; check in person."],
    key_expired: ["省级签发密钥已过期", "Expired province key", "请人工核查。", "Check in person."],
    key_not_yet_valid: ["省级签发密钥尚未生效", "Province key not valid yet", "请人工核查。", "Check in person."],
    revocations_too_old: ["无法离线核验纸质码", "Cannot verify the paper code offline",
                          "纸质码撤销名单超过24小时或尚未下载，请恢复网络后核验或人工核查。",
                          "The paper codes' revocation list is over 24 hours old, or was never fetched: verify online, or check in person."],
    number_offline: ["离线无法核验号码", "Typed numbers need the platform", "离线时请扫描纸质码上的二维码。",
                     "Offline, scan the paper code's QR instead of typing its number."],
  };

  // a checkpoint with an entry rule: admit or deny first, then each unmet requirement; the color follows
  function showAdmission(outcome) {
    const admit = $("#result-admit"), unmet = $("#result-unmet"), result = $("#result");
    const ruled = typeof outcome.admit === "boolean" || (outcome.offline && outcome.admit === null);
    admit.hidden = unmet.hidden = !ruled;
    if (!ruled) {
      delete result.dataset.admit;
      admit.textContent = "";
      unmet.replaceChildren();
      return;
    }
    result.dataset.admit = String(outcome.admit);
    admit.replaceChildren(outcome.admit ? "✓ 准许通行 " : "✕ 不予通行 ",
                          el("span.en", {text: outcome.admit ? "Admit" : "Deny"}));
    const unchecked = outcome.unchecked || [];
    if (outcome.admit === null) {   // offline: a requirement it could not check; never shown as admitted
      result.dataset.admit = "check";
      admit.replaceChildren("? 需人工核验 ", el("span.en", {text: "Check in person"}));
    }
    unmet.replaceChildren(...outcome.unmet.map((u) => el("li", {text: `${u.message} · ${u.message_en}`})),
                          ...unchecked.map((u) => el("li.unchecked", {text: `${u.message} · ${u.message_en}`})));
    unmet.hidden = outcome.unmet.length + unchecked.length === 0;
  }

  function showResult(outcome, temperature) {
    const result = $("#result");
    const offline = Boolean(outcome.offline);
    result.dataset.valid = String(outcome.valid);
    result.dataset.mode = offline ? "offline" : "online";
    const banner = $("#result-offline");
    banner.hidden = !offline;
    if (offline) {
      const asOf = outcome.iat ? HC.cst(outcome.iat).slice(11) : null;
      const provincial = outcome.issuer && outcome.issuer !== "national";
      banner.textContent = !outcome.valid ? "离线核验 · Offline check — 未连接平台 not checked with the platform"
        : outcome.paper ? "离线核验 · 打印时颜色 printed color, not the live one · " +
          `撤销名单 revocations as of ${HC.cst(outcome.revocations_at).slice(11, 16)}`
        : provincial ? (outcome.color ? "离线核验 · 省级码颜色 · the province's own color"
                                      : "离线核验 · 颜色离线未知 · color unknown offline")
        : asOf ? `离线核验 · color as of ${asOf}` : "离线核验 · 颜色离线未知 · color unknown offline";
    }
    if (outcome.valid && (outcome.color || !offline)) {
      const [icon, zh, en] = VERDICTS[outcome.color];
      result.dataset.color = outcome.color;
      $("#result-icon").textContent = icon;
      $("#result-title").textContent = zh;
      $("#result-sub").textContent = en;
      if (offline && outcome.paper) {
        $("#result-who").replaceChildren(el("strong", {text: "离线：无姓名 · 打印时颜色"}),
                                         el("span.en", {text: "Offline: no name; the color printed on the paper code, not the live one"}));
      } else if (offline) {
        $("#result-who").replaceChildren(el("strong", {text: "离线：无姓名"}),
                                         el("span.en", {text: "Offline: no name; the color is the signed one"}));
      } else {
        $("#result-who").replaceChildren(el("strong", {text: outcome.name_masked || "—"}),
                                         ` ****${outcome.id_last4 || ""}`);
      }
      const fever = $("#result-fever");
      fever.hidden = !outcome.fever;
      fever.textContent = outcome.fever
        ? `体温 ${temperature}℃ 异常，请引导至发热门诊 · Fever: send to the fever clinic` : "";
      const issuer = outcome.issuer === "national" ? "全国健康码 national code"
        : `省级健康码 provincial code (${String(outcome.issuer).replace("province:", "")})`;
      $("#result-meta").textContent = offline ? `离线 OFFLINE · ${cst(outcome.checked_at)} · ${issuer} · 已排队上传 queued`
        : `${cst(outcome.checked_at)} · ${issuer}`;
      if (outcome.paper && offline) {   // the color above is the printed one (docs/identity.md#paper-codes)
        $("#result-meta").textContent += ` · 纸质码 paper code ${outcome.paper.number} · 有效期至 valid until ` +
          `${cst(outcome.paper.valid_until)} · 打印时颜色 printed color, as of ${cst(outcome.paper.issued_at)}`;
      } else if (outcome.paper) {   // a paper code (docs/identity.md#paper-codes): the color above is the live one
        const printed = HC.COLORS[outcome.paper.color_at_issue] || {zh: outcome.paper.color_at_issue, en: ""};
        $("#result-meta").textContent += ` · 纸质码 paper code ${outcome.paper.number} · 有效期至 valid until ` +
          `${cst(outcome.paper.valid_until)} · 打印时 printed ${printed.zh} ${printed.en} · 颜色为实时 live color`;
      }
      showAdmission(outcome);
    } else if (outcome.valid) {   // offline, a province token without a color claim
      showAdmission(outcome);      // with a rule: "check in person", never admit
      result.dataset.color = "unknown";
      $("#result-icon").textContent = "?";
      $("#result-title").textContent = "颜色离线未知";
      $("#result-sub").textContent = "Valid code, color unknown offline — check in person";
      $("#result-who").replaceChildren("签名有效，请人工核查颜色。", el("span.en", {text: "The signature is valid; check the color in person."}));
      $("#result-fever").hidden = true;
      $("#result-meta").textContent = `离线 OFFLINE · ${cst(outcome.checked_at)} · ${outcome.issuer} · 已排队上传 queued`;
    } else {
      showAdmission({});
      const [zh, en, advice, adviceEn] = REFUSALS[outcome.reason] || OFFLINE_REFUSALS[outcome.reason] ||
        ["无法核验", "Not verified", outcome.message || "", ""];
      result.dataset.color = "refused";
      result.dataset.reason = outcome.reason;
      $("#result-icon").textContent = "✕";
      $("#result-title").textContent = zh;
      $("#result-sub").textContent = en;
      $("#result-who").replaceChildren(advice, el("span.en", {text: adviceEn}));
      $("#result-fever").hidden = true;
      $("#result-meta").textContent = `${offline ? "离线 OFFLINE · " : ""}${cst(outcome.checked_at)} · ${outcome.reason}`;
    }
    result.setAttribute("aria-label", `${offline ? "离线核验结果，未连接平台 Offline result, not checked with the platform: " : ""}` +
                        `${$("#result-title").textContent} ${$("#result-sub").textContent}`);
    result.hidden = false;
    document.body.classList.add("showing-result");
    $("#next").focus();
  }

  // a handheld scanner typing the next token while a result shows: next person, nothing to dismiss
  document.addEventListener("keydown", (event) => {
    if ($("#result").hidden || event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    nextPerson();
    form.token.value = event.key;
  });

  $("#next").addEventListener("click", () => nextPerson());

  function nextPerson() {
    const result = $("#result");
    result.hidden = true;
    delete result.dataset.reason;
    document.body.classList.remove("showing-result");
    form.token.value = "";
    form.temperature.value = "";
    if (stream) scan(); else form.token.focus();
  }

  // --- the camera, where the browser offers BarcodeDetector ----------------------------------------------------
  async function cameraAvailable() {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return false;
    try {
      return (await BarcodeDetector.getSupportedFormats()).includes("qr_code");
    } catch (e) {
      return false;
    }
  }

  async function scan() {
    const video = $("#video"), box = $(".error", form);
    showError(box, null);
    try {
      if (!stream) {
        stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
        video.srcObject = stream;
      }
      video.hidden = false;
      $("#scan-stop").hidden = false;
      $("#scan").hidden = true;
      await video.play();
    } catch (e) {
      stopCamera();
      return showError(box, "无法打开摄像头，请允许使用摄像头，或粘贴二维码内容。Cannot open the camera: allow it, or paste the token.");
    }
    const detector = new BarcodeDetector({formats: ["qr_code"]});
    scanning = true;
    while (scanning) {
      try {
        const [found] = await detector.detect(video);
        if (found && found.rawValue) {
          scanning = false;
          video.pause();
          form.token.value = found.rawValue;
          await verify(found.rawValue);
          return;
        }
      } catch (e) { /* a frame that is not ready yet */ }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $("#video").hidden = true;
    $("#scan-stop").hidden = true;
    $("#scan").hidden = false;
  }

  $("#scan").addEventListener("click", scan);
  $("#scan-stop").addEventListener("click", stopCamera);
  cameraAvailable().then((yes) => {
    $("#camera").hidden = !yes;
    $("#no-camera").hidden = yes;
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("web/sw.js", {scope: "./"}).catch(() => null);
  }
  window.addEventListener("online", () => tryBack());
  setInterval(() => { if (!offlineSince) refreshKeys(); }, KEYS_REFRESH_MS);
  setInterval(() => {
    const held = heldRevocations();
    if (!held || Date.now() / 1000 >= held.next_update) refreshRevocations();
  }, REVOCATIONS_CHECK_MS);
  refreshKeys().then(refreshRevocations).then(() => apiDown()).then((down) => {
    if (down) { goOffline(); if (session && session.checkpoint_id) start(); } else upload();
  });
  start();
})();
