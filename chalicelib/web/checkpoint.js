/* The checkpoint's page: log in with client credentials, scan or paste a code, see the result full screen. */
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
    if (!session || (session.expires_at <= Date.now() && !secret)) return showLogin(session ? "登录已过期，请重新登录。" : null);
    $("#where").replaceChildren("通道 Gate ", el("strong", {text: session.checkpoint_id}), ` · ${session.client_id}`);
    show("scan");
    $("#verify-form").token.focus();
  }

  function showLogin(reason) {
    stopCamera();
    show("login");
    const form = $("#login-form");
    if (session) form.client_id.value = session.client_id;
    form.checkpoint_id.value = form.checkpoint_id.value || localStorage.getItem("hc.gate") || "";
    showError($(".error", form), reason || null);
  }

  async function token(clientId, clientSecret) {
    const body = await getJson("v1/oauth/token", {method: "POST", form: {
      grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret}});
    return {token: body.access_token, expires_at: Date.now() + (body.expires_in - 30) * 1000};
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
      start();
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
    const request = {token: text, checkpoint_id: session.checkpoint_id};
    const temperature = form.temperature.value.trim();
    if (temperature) request.temperature = Number(temperature);
    form.classList.add("busy");
    try {
      await ensureToken();
      let outcome;
      try {
        outcome = await getJson("v1/verifications", {method: "POST", json: request, token: session.token});
      } catch (e) {
        if (e.status !== 401 || !secret) throw e;
        session.expires_at = 0;          // revoked or expired early: renew once and try again
        await ensureToken();
        outcome = await getJson("v1/verifications", {method: "POST", json: request, token: session.token});
      }
      showResult(outcome, request.temperature);
    } catch (e) {
      if (e.status === 401) return showLogin(e);
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  }

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

  function showResult(outcome, temperature) {
    const result = $("#result");
    result.dataset.valid = String(outcome.valid);
    if (outcome.valid) {
      const [icon, zh, en] = VERDICTS[outcome.color];
      result.dataset.color = outcome.color;
      $("#result-icon").textContent = icon;
      $("#result-title").textContent = zh;
      $("#result-sub").textContent = en;
      $("#result-who").replaceChildren(el("strong", {text: outcome.name_masked || "—"}),
                                       ` ****${outcome.id_last4 || ""}`);
      const fever = $("#result-fever");
      fever.hidden = !outcome.fever;
      fever.textContent = outcome.fever
        ? `体温 ${temperature}℃ 异常，请引导至发热门诊 · Fever: send to the fever clinic` : "";
      $("#result-meta").textContent = `${cst(outcome.checked_at)} · ${outcome.issuer === "national" ? "全国健康码 national code"
        : `省级健康码 provincial code (${String(outcome.issuer).replace("province:", "")})`}`;
      if (outcome.paper) {   // a paper code (docs/identity.md#paper-codes): the color above is the live one
        const printed = HC.COLORS[outcome.paper.color_at_issue] || {zh: outcome.paper.color_at_issue, en: ""};
        $("#result-meta").textContent += ` · 纸质码 paper code ${outcome.paper.number} · 有效期至 valid until ` +
          `${cst(outcome.paper.valid_until)} · 打印时 printed ${printed.zh} ${printed.en} · 颜色为实时 live color`;
      }
    } else {
      const [zh, en, advice, adviceEn] = REFUSALS[outcome.reason] ||
        ["无法核验", "Not verified", outcome.message || "", ""];
      result.dataset.color = "refused";
      result.dataset.reason = outcome.reason;
      $("#result-icon").textContent = "✕";
      $("#result-title").textContent = zh;
      $("#result-sub").textContent = en;
      $("#result-who").replaceChildren(advice, el("span.en", {text: adviceEn}));
      $("#result-fever").hidden = true;
      $("#result-meta").textContent = `${cst(outcome.checked_at)} · ${outcome.reason}`;
    }
    result.hidden = false;
    document.body.classList.add("showing-result");
    $("#next").focus();
  }

  $("#next").addEventListener("click", () => {
    const result = $("#result");
    result.hidden = true;
    delete result.dataset.reason;
    document.body.classList.remove("showing-result");
    form.token.value = "";
    form.temperature.value = "";
    if (stream) scan(); else form.token.focus();
  });

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

  start();
})();
