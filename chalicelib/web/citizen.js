/* The citizen's pages: log in, declare, show the code, the risk prompt, trips, check-ins, queries, corrections. */
"use strict";

(() => {
  const {api, getJson, showError, el, COLORS, LEVELS, SYMPTOMS, cst, cstDate, today, randomKey, load, save, areaHint} = HC;
  const $ = (selector, root = document) => root.querySelector(selector);
  const KEY = "hc.citizen";
  const SCREENS = ["login", "apply", "code", "risk", "trips", "checkin", "copassenger", "cities", "localcodes",
                   "access", "scans", "mydata", "family", "corrections"];
  const TITLES = {
    login: ["健康码", "Health code"], apply: ["健康申报", "Declaration"], code: ["健康码", "Health code"],
    risk: ["风险提示", "Risk prompt"], trips: ["行程申报", "Trips"], checkin: ["每日打卡", "Check-in"],
    copassenger: ["同乘查询", "Co-passengers"], cities: ["到访城市", "Cities"], localcodes: ["省级健康码", "Local codes"],
    access: ["谁查询了我", "Access log"], corrections: ["我要纠错", "Corrections"], family: ["家人", "Family"],
    scans: ["扫码记录", "Scans"], mydata: ["我的数据", "My data"],
  };
  const ACTIONS = {lookup: "查询 look-up", medical_status: "设定医学状态 set a medical status",
                   medical_status_refused: "试图设定医学状态（已拒绝）tried to set a medical status (refused)",
                   local_code: "共享省级健康码 pushed a local code", health_record: "共享医疗记录 pushed a health record",
                   correction_history: "审核纠错时查看记录 read your history to review a correction",
                   guardian_added: "将您添加为家人 added you as a family member",
                   guardian_act: "代您办理 acted for you", guardian_removed: "不再代办 stopped acting for you",
                   paper_code: "打印纸质码 printed a paper code", paper_code_revoked: "撤销纸质码 revoked a paper code",
                   venue_visits: "查询场所到访记录 listed your visit to a venue"};
  const RELATIONSHIPS = {child: "子女 child", grandchild: "孙辈 grandchild", parent: "父母 parent",
                         grandparent: "祖父母 grandparent", parent_in_law: "岳父母/公婆 parent-in-law",
                         other_relative: "亲属 relative"};
  const OPERATIONS = {"POST /v1/codes": "申领/更新健康码 applied", "GET /v1/codes/me": "查看健康码 viewed the code",
                      "GET /v1/codes/me/qr": "出示二维码 showed the QR", "POST /v1/trips": "申报行程 declared a trip",
                      "GET /v1/trips": "查看行程 viewed trips", "POST /v1/checkins": "健康打卡 checked in",
                      "GET /v1/me/risk": "查看风险提示 viewed the risk prompt",
                      "POST /v1/paper-codes": "打印纸质码 printed a paper code"};
  const MODES = {flight: "飞机 Flight", train: "火车 Train", bus: "客车 Bus", car: "自驾 Car", ship: "轮船 Ship",
                 other: "其他 Other"};
  const SOURCES = {trip: "行程 trip", checkin: "打卡 check-in", scan: "扫码 scan", declaration: "申报 declaration",
                   venue: "场所码 venue"};
  const CASES = {confirmed: "确诊病例 confirmed case", suspected: "疑似病例 suspected case"};
  const CORRECTION_STATUS = {pending: ["处理中", "Pending"], approved: ["已通过", "Approved"],
                             rejected: ["未通过", "Rejected"]};
  const CORRECTABLE = ["declaration", "medical_status", "area", "exposure", "checkin", "local_code"];

  let session = load(KEY);          // {token, expires_at (ms), name_masked, id_last4, document_type}
  let acting = load(KEY + ".acting");  // the dependant a guardian is acting for: {id, name_masked, relationship}
  let code = null;                  // GET /v1/codes/me
  let risk = null;                  // GET /v1/me/risk
  let correctionsAvailable = null;  // whether this deployment has POST/GET /v1/corrections
  const qr = {url: null, expiresAt: 0, ttl: 0, skew: 0, timer: null, ticker: null};
  const keys = {};                  // an Idempotency-Key per form, kept across retries of the same submission

  function now() { return (Date.now() + qr.skew) / 1000; }
  // the operations a guardian may do for a dependant carry X-Acting-For (auth); the rest are always one's own (own)
  function auth() { return {token: session && session.token, acting: acting && acting.id}; }
  function own() { return {token: session && session.token}; }

  function show(name) {
    for (const screen of SCREENS) $(`#screen-${screen}`).hidden = screen !== name;
    const [zh, en] = TITLES[name];
    $("#title").replaceChildren(zh + " ", el("span.en", {text: en}));
    $("#back").hidden = name === "login" || name === "code" || (name === "apply" && !code);
    $("#logout").hidden = name === "login";
    document.body.dataset.screen = name;
    if (name !== "code") stopQr();
    window.scrollTo(0, 0);
  }

  function fail(err) {
    if (err && err.status === 401) return logout(err);
    showError($("#page-error"), err);
  }

  function logout(reason) {
    stopQr();
    session = null; code = null; risk = null; acting = null;
    save(KEY, null);
    save(KEY + ".acting", null);
    document.body.dataset.acting = "";
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    show("login");
    showError($("#screen-login .error"), reason || null);
  }

  // --- routing: #code (default), #risk, #trips ... ------------------------------------------------------------
  async function route() {
    showError($("#page-error"), null);
    if (!session || session.expires_at <= Date.now()) return logout(session ? "登录已过期，请重新登录。" : null);
    const name = location.hash.slice(1) || "code";
    try {
      if (!code) {
        try {
          code = await getJson("v1/codes/me", auth());
        } catch (e) {
          if (e.code !== "no_code") throw e;
          return showApply(true);
        }
      }
      if (name === "apply") return showApply(false);
      if (!SCREENS.includes(name) || name === "login") return showCode();
      const screens = {code: showCode, risk: showRisk, trips: showTrips, checkin: showCheckin,
                       copassenger: showCopassenger, cities: showCities, localcodes: showLocalCodes,
                       access: showAccessLog, scans: showScans, mydata: showMyData, corrections: showCorrections,
                       family: showFamily};
      await screens[name]();
    } catch (e) {
      fail(e);
    }
  }

  // --- log in (dev self-assertion) -----------------------------------------------------------------------------
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), data = new FormData(form);
    showError(box, null);
    form.classList.add("busy");
    try {
      const identity = {name: data.get("name").trim(), id_number: data.get("id_number").trim().toUpperCase(),
                        phone: data.get("phone").trim(), document_type: data.get("document_type")};
      if (identity.document_type === "passport") identity.nationality = data.get("nationality").trim().toUpperCase();
      const body = await getJson("v1/sessions", {method: "POST", json: {self_asserted: identity}});
      session = {token: body.access_token, expires_at: Date.now() + (body.expires_in - 30) * 1000,
                 name_masked: body.name_masked, id_last4: body.id_last4, document_type: body.document_type};
      save(KEY, session);
      form.reset();
      await route();
    } catch (e) {
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });
  $("#logout").addEventListener("click", () => logout());
  $("#login-form [name=document_type]").addEventListener("change", (event) => {
    $("#login-form [data-doc=passport]").hidden = event.target.value !== "passport";
  });

  // --- elder mode: large type, high contrast, fewer things on the screen (kept on this device) ---------------
  function elderMode(on) {
    document.body.classList.toggle("elder", on);
    $("#elder").setAttribute("aria-pressed", String(on));
    localStorage.setItem("hc.elder", on ? "1" : "");
  }
  elderMode(localStorage.getItem("hc.elder") === "1");
  $("#elder").addEventListener("click", () => elderMode(!document.body.classList.contains("elder")));

  // --- whose code: mine, or a dependant's (large avatars with the masked name) -------------------------------
  function initial(name) { return (name || "?").replace(/\*/g, "").charAt(0) || "?"; }

  function actFor(who) {
    acting = who;
    save(KEY + ".acting", who);
    code = null; risk = null; qr.expiresAt = 0;
    stopQr();
    if (qr.url) URL.revokeObjectURL(qr.url);
    qr.url = null;
    $("#qr").removeAttribute("src");        // never show the last person's QR under the next one's name
    $("#qr").removeAttribute("data-expires-at");
    document.body.dataset.acting = who ? "1" : "";
    if (location.hash && location.hash !== "#code") location.hash = "#code"; else route();
  }

  async function paintSwitcher() {
    const nav = $("#switcher");
    let dependants = [];
    try { dependants = (await getJson("v1/me/dependants", own())).dependants; } catch (e) { if (e.status === 401) throw e; }
    if (acting && !dependants.some((d) => d.dependant_id === acting.id)) { actFor(null); return; }
    nav.hidden = !dependants.length;
    const me = {id: null, name_masked: session.name_masked, label: "我 Me"};
    const people = [me, ...dependants.map((d) => ({id: d.dependant_id, name_masked: d.name_masked,
                                                    relationship: d.relationship,
                                                    label: RELATIONSHIPS[d.relationship] || d.relationship}))];
    nav.replaceChildren(...people.map((p) => {
      const current = (acting ? acting.id : null) === p.id;
      return el("button.avatar", {type: "button", "aria-pressed": String(current), "data-id": p.id || "me",
                                  on: {click: () => { if (!current) actFor(p.id ? {id: p.id, name_masked: p.name_masked,
                                                                                    relationship: p.relationship} : null); }}},
                el("span.face", {text: initial(p.name_masked), "aria-hidden": "true"}),
                el("span.name", {text: p.name_masked}), el("span.rel", {text: p.label}));
    }));
  }

  // --- the health declaration ----------------------------------------------------------------------------------
  function symptomBoxes(fieldset) {
    for (const [value, zh, en] of SYMPTOMS) {
      fieldset.append(el("label.inline", {}, el("input", {type: "checkbox", name: "symptoms", value}), ` ${zh} `,
                         el("span.en", {text: en})));
    }
  }
  document.querySelectorAll("fieldset.symptoms").forEach(symptomBoxes);

  function showApply(first) {
    $("#apply-note").hidden = !first;
    const area = $("#apply-form [name=current_area]");
    if (!area.value) area.value = localStorage.getItem("hc.area") || "";
    show("apply");
    if (first) $("#title").replaceChildren("申领健康码 ", el("span.en", {text: "Apply"}));
  }

  $("#apply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), data = new FormData(form);
    showError(box, null);
    const declaration = {
      temperature: Number(data.get("temperature")),
      symptoms: data.getAll("symptoms"),
      contact_with_cases: data.get("contact_with_cases") === "true",
      stayed_in_high_risk_area: data.get("stayed_in_high_risk_area") === "true",
      current_area: data.get("current_area").trim(),
    };
    keys.apply = keys.apply || randomKey();
    form.classList.add("busy");
    try {
      code = await getJson("v1/codes", {method: "POST", json: declaration, ...auth(),
                                        headers: {"Idempotency-Key": keys.apply}});
      keys.apply = null;
      localStorage.setItem("hc.area", declaration.current_area);
      risk = null;
      qr.expiresAt = 0;
      if (location.hash && location.hash !== "#code") location.hash = "#code"; else await showCode();
    } catch (e) {
      if (e.status === 401) return fail(e);
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });
  $("#apply-form").addEventListener("input", () => { keys.apply = null; });

  // --- the code: a QR in its color, refreshed before its token expires ---------------------------------------
  function paintCode() {
    const card = $("#code-card"), color = code.color, words = COLORS[color];
    card.dataset.color = color;
    document.querySelector("meta[name=theme-color]").setAttribute("content", getComputedStyle(card).backgroundColor);
    $("#code-name").textContent = code.name_masked;
    const label = $("#acting-label");
    label.hidden = !acting;
    if (acting) {
      label.replaceChildren("家人的健康码 · 由您代为出示 ",
                            el("span.en", {text: `A family member's code (${RELATIONSHIPS[acting.relationship] || ""}), shown by you`}));
    }
    $("#code-id").textContent = `****${code.id_last4.slice(-4)}`;
    $("#color-word").replaceChildren(words.zh + " ", el("span.en", {text: words.en}));
    paintHealth(code.health || {negative_within: null, doses: 0});
  }

  // under the QR: the bucket of the latest negative test (from its sample time) and the dose count
  const NEGATIVE = {"24h": "24小时内阴性", "48h": "48小时内阴性", "72h": "72小时内阴性", "7d": "7天内阴性"};
  function paintHealth(health) {
    const badges = [];
    if (health.negative_within) {
      badges.push(el("span.badge.negative", {text: NEGATIVE[health.negative_within]}));
    }
    if (health.doses > 0) badges.push(el("span.badge.doses", {text: `已接种 ${health.doses} 剂`}));
    const box = $("#health-badges");
    box.replaceChildren(...badges);
    box.hidden = badges.length === 0;
  }

  async function showCode() {
    show("code");
    document.body.dataset.acting = acting ? "1" : "";
    paintCode();
    paintSwitcher().catch(fail);
    startTicker();
    if (!qr.url || qr.expiresAt - now() < margin(qr.ttl)) await refreshQr(); else scheduleQr();
    loadRisk().then(paintRiskSummary).catch(() => {});
    if (!acting) detectCorrections();
  }

  function margin(ttl) { return Math.min(30, Math.max(3, ttl * 0.15)); }

  function scheduleQr() {
    clearTimeout(qr.timer);
    const wait = Math.max(1, qr.expiresAt - margin(qr.ttl) - now());
    qr.timer = setTimeout(refreshQr, wait * 1000);
  }

  function stopQr() {
    clearTimeout(qr.timer);
    clearInterval(qr.ticker);
    qr.timer = qr.ticker = null;
  }

  async function refreshQr() {
    clearTimeout(qr.timer);
    const blocked = $("#qr-blocked");
    try {
      const res = await api("v1/codes/me/qr?format=svg", {...auth(), headers: {Accept: "image/svg+xml"}});
      const svg = await res.text();
      const served = Date.parse(res.headers.get("Date") || "");
      if (!Number.isNaN(served)) qr.skew = served - Date.now();
      qr.expiresAt = Number(res.headers.get("X-Token-Expires-At")) || now() + 60;
      qr.ttl = qr.expiresAt - now();
      const url = URL.createObjectURL(new Blob([svg], {type: "image/svg+xml"}));
      const img = $("#qr");
      img.src = url;
      img.dataset.expiresAt = String(qr.expiresAt);
      if (qr.url) URL.revokeObjectURL(qr.url);
      qr.url = url;
      blocked.hidden = true;
      const color = res.headers.get("X-Code-Color");
      if (color && code && color !== code.color) {
        code.color = color;
        risk = null;
        loadRisk().then(paintRiskSummary).catch(() => {});
      }
      if (code) paintCode();
      if (!$("#screen-code").hidden) scheduleQr();
      tick();
    } catch (e) {
      if (e.status === 401) return fail(e);
      blocked.hidden = false;
      showError(blocked, e);
      qr.expiresAt = 0;
      if (e.code !== "code_revoked" && !$("#screen-code").hidden) qr.timer = setTimeout(refreshQr, 10000);
    }
  }
  $("#qr-refresh").addEventListener("click", async () => {
    qr.expiresAt = 0;
    try { code = await getJson("v1/codes/me", auth()); } catch (e) { return fail(e); }
    risk = null;
    await refreshQr();
    loadRisk().then(paintRiskSummary).catch(() => {});
  });

  function tick() {
    const t = now();
    const d = new Date((t + 8 * 3600) * 1000);
    $("#clock").textContent = `${cstDate(t)} ${HC.pad(d.getUTCHours())}:${HC.pad(d.getUTCMinutes())}:${HC.pad(d.getUTCSeconds())}`;
    const left = Math.max(0, Math.round(qr.expiresAt - t));
    const countdown = $("#countdown");
    countdown.dataset.left = String(left);
    countdown.textContent = qr.expiresAt
      ? `${Math.floor(left / 60)}:${HC.pad(left % 60)} 后自动刷新 · auto-refresh`
      : "";
    if (qr.expiresAt && left === 0 && !$("#screen-code").hidden && !qr.timer) refreshQr();
  }

  function startTicker() {
    clearInterval(qr.ticker);
    tick();
    qr.ticker = setInterval(tick, 1000);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !$("#screen-code").hidden && qr.expiresAt - now() < margin(qr.ttl)) {
      refreshQr();
    }
  });

  // --- the risk prompt -----------------------------------------------------------------------------------------
  async function loadRisk() {
    if (!risk) risk = await getJson("v1/me/risk", auth());
    return risk;
  }

  function paintRiskSummary(r) {
    const summary = $("#risk-summary");
    summary.dataset.color = r.color;
    $("#risk-headline").textContent = r.headline;
  }

  async function showRisk() {
    show("risk");
    risk = null;
    const r = await loadRisk();
    const head = $("#risk-head");
    head.dataset.color = r.color;
    head.replaceChildren(el("strong", {text: `${COLORS[r.color].zh} ${COLORS[r.color].en}`}),
                         el("p", {text: r.headline}), el("p.en", {text: r.headline_en}));
    await detectCorrections();
    const list = $("#risk-reasons");
    list.replaceChildren(...r.reasons.map((reason) => el("li", {data: {color: reason.color, code: reason.code}},
      el("span.dot", {"aria-hidden": "true"}),
      el("div", {},
        el("p.message", {text: reason.message}),
        el("p.en", {text: reason.message_en}),
        el("p.meta", {text: `${reason.source_name} · ${cst(reason.since)}` +
                             (reason.until ? ` 至 until ${cst(reason.until)}` : "")}),
        correctionsAvailable && CORRECTABLE.includes(reason.source)
          ? el("a.link", {href: `#corrections`, text: "申请纠错 Request a correction",
                          on: {click: () => { keys.preselect = `${reason.source}|${reason.code}|${reason.ref || ""}`; }}})
          : null))));
    if (!r.reasons.length) list.append(el("li.empty", {text: "暂无风险提示。No risk found."}));
    $("#risk-next").textContent = r.next_change_at
      ? `预计 ${cst(r.next_change_at)} 起颜色可能变化 · The color may change from ${cst(r.next_change_at)} (CST).` : "";
  }

  // --- trips ---------------------------------------------------------------------------------------------------
  const names = new Map();
  function areaName(codeValue) {
    if (!names.has(codeValue)) names.set(codeValue, getJson(`v1/areas/${codeValue}`).then((a) => a.name, () => codeValue));
    return names.get(codeValue);
  }
  function place(codeValue) {
    const span = el("span", {text: codeValue});
    areaName(codeValue).then((name) => { span.textContent = name; span.title = codeValue; });
    return span;
  }

  function datesWithinWindow(input) {
    input.max = today();
    input.min = today(13);
    if (!input.value) input.value = today();
  }

  const tripForm = $("#trip-form");
  function modeFields() {
    const mode = tripForm.mode.value;
    tripForm.querySelectorAll("[data-for]").forEach((label) => {
      label.hidden = !label.dataset.for.split(" ").includes(mode);
    });
  }
  tripForm.mode.addEventListener("change", modeFields);
  areaHint(tripForm.from);
  areaHint(tripForm.to);

  async function showTrips() {
    show("trips");
    datesWithinWindow(tripForm.date);
    modeFields();
    const body = await getJson("v1/trips?limit=50", auth());
    $("#trip-list").replaceChildren(...body.trips.map((t) => el("li", {},
      el("strong", {text: t.date}), " ", place(t.from), " → ", place(t.to),
      el("p.meta", {text: [MODES[t.mode] || t.mode, t.number, t.carriage ? `${t.carriage}车 carriage` : null,
                           t.seat ? `座 seat ${t.seat}` : null].filter(Boolean).join(" · ")}))));
    if (!body.trips.length) $("#trip-list").append(el("li.empty", {text: "近14天没有申报行程。No trips declared."}));
  }

  tripForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), done = $(".ok", form), data = new FormData(form);
    showError(box, null);
    done.hidden = true;
    const mode = data.get("mode");
    const trip = {date: data.get("date"), from: data.get("from").trim(), to: data.get("to").trim(), mode};
    if (mode === "flight" || mode === "train") {
      trip.number = data.get("number").trim();
      if (data.get("seat").trim()) trip.seat = data.get("seat").trim().toUpperCase();
      if (mode === "train" && data.get("carriage")) trip.carriage = Number(data.get("carriage"));
    }
    keys.trip = keys.trip || randomKey();
    form.classList.add("busy");
    try {
      const saved = await getJson("v1/trips", {method: "POST", json: trip, ...auth(), headers: {"Idempotency-Key": keys.trip}});
      keys.trip = null;
      done.textContent = `已申报 ${saved.date} ${saved.number || ""} · Trip declared.`;
      done.hidden = false;
      form.number.value = form.seat.value = form.carriage.value = "";
      risk = null;
      await showTrips();
      done.hidden = false;
    } catch (e) {
      if (e.status === 401) return fail(e);
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });
  tripForm.addEventListener("input", () => { keys.trip = null; });

  // --- daily check-in ------------------------------------------------------------------------------------------
  const checkinForm = $("#checkin-form");
  areaHint(checkinForm.area);

  async function showCheckin() {
    show("checkin");
    if (!checkinForm.area.value) {
      checkinForm.area.value = localStorage.getItem("hc.area") || "";
      checkinForm.area.dispatchEvent(new Event("change"));
    }
  }

  checkinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), done = $(".ok", form), data = new FormData(form);
    showError(box, null);
    done.hidden = true;
    form.classList.add("busy");
    try {
      const saved = await getJson("v1/checkins", {method: "POST", ...auth(), json: {
        area: data.get("area").trim(), temperature: Number(data.get("temperature")), symptoms: data.getAll("symptoms")}});
      risk = null;
      done.textContent = `${saved.date} 已打卡 ${await areaName(saved.area)} ${saved.temperature}℃ · Checked in.`;
      done.hidden = false;
    } catch (e) {
      if (e.status === 401) return fail(e);
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });

  // --- co-passenger query --------------------------------------------------------------------------------------
  const copassengerForm = $("#copassenger-form");
  async function showCopassenger() {
    show("copassenger");
    copassengerForm.date.max = today();
    if (!copassengerForm.date.value) copassengerForm.date.value = today();
  }

  copassengerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), out = $("#copassenger-result"), data = new FormData(form);
    showError(box, null);
    out.replaceChildren();
    form.classList.add("busy");
    try {
      const query = new URLSearchParams({number: data.get("number").trim(), date: data.get("date")});
      const found = await getJson(`v1/exposures?${query}`);
      out.dataset.affected = String(found.affected);
      out.append(found.affected
        ? el("p.alert", {text: `${found.date} ${found.number} 有已公布的病例同乘信息，请按当地要求报备。 ` +
                               "Cases were published for this trip: report to local epidemic prevention staff."})
        : el("p.ok", {text: `${found.date} ${found.number} 暂未发现公布的病例。No cases published for this trip.`}));
      out.append(el("ul.list", {}, found.exposures.map((x) => el("li", {},
        el("strong", {text: `${MODES[x.mode] || x.mode} ${x.number} · ${x.date}`}),
        el("p.meta", {text: [CASES[x.case_type] || x.case_type,
                             x.carriages.length ? `车厢 carriages ${x.carriages.join(", ")}` : null,
                             x.rows ? `座位排 rows ${x.rows.from}–${x.rows.to}` : null,
                             x.inbound ? "入境 inbound" : null].filter(Boolean).join(" · ")})))));
    } catch (e) {
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });

  // --- cities and local codes ----------------------------------------------------------------------------------
  async function showCities() {
    show("cities");
    const body = await getJson("v1/me/cities", own());
    $("#city-list").replaceChildren(...body.cities.map((c) => {
      const [zh, en] = LEVELS[c.level] || [c.level, ""];
      return el("li", {data: {level: c.level}},
        el("strong", {text: c.name || c.area}), " ", el("span.chip", {data: {level: c.level}, text: `${zh} ${en}`}),
        el("p.meta", {text: `最近到访 last visited ${c.last_visited} · ${c.sources.map((s) => SOURCES[s] || s).join("、")}`}));
    }));
    if (!body.cities.length) $("#city-list").append(el("li.empty", {text: "14天内没有到访记录。Nothing in 14 days."}));
  }

  async function showLocalCodes() {
    show("localcodes");
    const body = await getJson("v1/me/local-codes", own());
    $("#localcode-list").replaceChildren(...body.local_codes.map((c) => el("li", {},
      el("strong", {text: c.province_name || c.province}), " ",
      el("span.chip", {data: {color: c.color}, text: `${COLORS[c.color].zh} ${COLORS[c.color].en}`}),
      el("p.meta", {text: `更新于 updated ${cst(c.updated_at)}` + (c.valid_until ? ` · 有效至 valid until ${cst(c.valid_until)}` : "")}))));
    if (!body.local_codes.length) {
      $("#localcode-list").append(el("li.empty", {text: "各省尚未共享您的省级健康码。No provincial codes shared."}));
    }
  }

  async function showAccessLog() {
    show("access");
    const body = await getJson("v1/me/access-log?limit=100", own());
    $("#access-list").replaceChildren(...body.accesses.map((a) => {
      const why = a.basis ? (a.basis.note || a.basis.stated || a.basis.connection || "") : "";
      return el("li", {},
        el("strong", {text: a.role === "guardian" ? `家人 ${a.returned.guardian_name_masked || ""}`
                            : a.province_name || (a.role === "national_authority" ? "国家卫生健康部门 national" : a.role)}),
        " ", el("span", {text: ACTIONS[a.action] || a.action}),
        a.returned && a.returned.operation ? el("span", {text: ` · ${OPERATIONS[a.returned.operation] || a.returned.operation}`}) : null,
        el("p.meta", {text: `${cst(a.at)}` + (why ? ` · 依据 basis: ${why}` : "")}));
    }));
    if (!body.accesses.length) $("#access-list").append(el("li.empty", {text: "没有记录。No one has accessed your data."}));
  }

  // --- what is kept about me: GET /v1/me/scans, /v1/me/data, /v1/me/data/export --------------------------------
  const KINDS = {code: "健康码 Health code", scans: "扫码记录 Scans", trips: "行程 Trips", stays: "到访地 Stays",
                 checkins: "打卡 Check-ins", medical_statuses: "医学状态 Medical statuses",
                 medical_history: "医学状态变更 Status changes", health_records: "医疗记录 Health records",
                 local_codes: "省级健康码 Local codes", corrections: "纠错申请 Corrections",
                 code_history: "健康码变更 Code history", access_log: "访问记录 Access log",
                 correction_decisions: "纠错审核 Review decisions"};
  let scanCursor = null;

  function scanItem(s) {
    return el("li", {},
      el("strong", {text: s.area_name || s.area || s.checkpoint_id}), " ",
      el("span.chip", {data: {color: s.color}, text: `${COLORS[s.color].zh} ${COLORS[s.color].en}`}),
      s.offline ? el("span", {text: " 离线 offline"}) : "",
      el("p.meta", {text: `${cst(s.at)} · ${s.checkpoint_id} · 删除于 deleted ${cstDate(s.expires_at)}`}));
  }

  async function showScans(more = false) {
    show("scans");
    const query = more && scanCursor ? `&cursor=${encodeURIComponent(scanCursor)}` : "";
    const body = await getJson(`v1/me/scans?limit=50${query}`, own());
    const items = body.scans.map(scanItem);
    if (more) $("#scan-list").append(...items); else $("#scan-list").replaceChildren(...items);
    scanCursor = body.next_cursor;
    $("#scan-more").hidden = !scanCursor;
    if (!more && !body.scans.length) $("#scan-list").append(el("li.empty", {text: "没有扫码记录。No scans."}));
  }
  $("#scan-more").addEventListener("click", () => showScans(true).catch((e) => showError($("#page-error"), e)));

  async function showMyData() {
    show("mydata");
    const body = await getJson("v1/me/data", own());
    $("#data-list").replaceChildren(...body.kinds.map((k) => el("li", {data: {kind: k.kind}},
      el("strong", {text: KINDS[k.kind] || k.kind}), " ", el("span", {text: `${k.count}`}),
      el("p.meta", {text: k.count
        ? `最早 oldest ${cst(k.oldest)} · 全部删除于 all deleted by ${cstDate(k.expires_at)}`
        : "无 none"}))));
  }
  $("#data-export").addEventListener("click", async () => {
    try {
      const body = await getJson("v1/me/data/export", own());
      const link = el("a", {href: URL.createObjectURL(new Blob([JSON.stringify(body, null, 2)],
                                                              {type: "application/json"}))});
      link.download = "my-health-code-data.json";
      link.click();
    } catch (e) {
      showError($("#page-error"), e);
    }
  });

  // --- family members ----------------------------------------------------------------------------------------
  async function showFamily() {
    if (acting) return actFor(null);
    show("family");
    const [mine, holders] = await Promise.all([getJson("v1/me/dependants", own()), getJson("v1/me/guardians", own())]);
    $("#dependant-list").replaceChildren(...mine.dependants.map((d) => el("li", {},
      el("strong", {text: d.name_masked}), ` ****${d.id_last4} · ${RELATIONSHIPS[d.relationship] || d.relationship}`,
      el("button.link", {type: "button", on: {click: async () => {
        if (!confirm(`不再为 ${d.name_masked} 代办？ Stop holding this code?`)) return;
        try { await api(`v1/me/dependants/${d.dependant_id}`, {method: "DELETE", ...own()}); } catch (e) { return fail(e); }
        await showFamily();
      }}}, "移除 ", el("span.en", {text: "Remove"})))));
    if (!mine.dependants.length) $("#dependant-list").append(el("li.empty", {text: "还没有添加家人。No family members yet."}));
    $("#guardian-list").replaceChildren(...holders.guardians.map((g) => el("li", {},
      el("strong", {text: g.name_masked}), g.status === "active" ? " · 正在代办 holds your code" : " · 已收回 taken back",
      g.status === "active" ? el("button.link", {type: "button", on: {click: async () => {
        if (!confirm(`收回健康码，${g.name_masked} 将不能再代办？ Take your code back?`)) return;
        try { await api(`v1/me/guardians/${g.guardian_id}`, {method: "DELETE", ...own()}); } catch (e) { return fail(e); }
        await showFamily();
      }}}, "收回 ", el("span.en", {text: "Take back"})) : null)));
    if (!holders.guardians.length) $("#guardian-list").append(el("li.empty", {text: "没有人代办您的健康码。No one holds your code."}));
  }

  $("#dependant-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), data = new FormData(form);
    showError(box, null);
    form.classList.add("busy");
    try {
      await getJson("v1/me/dependants", {method: "POST", ...own(), json: {
        name: data.get("name").trim(), id_number: data.get("id_number").trim().toUpperCase(),
        birth_date: data.get("birth_date"), relationship: data.get("relationship")}});
      form.reset();
      await showFamily();
    } catch (e) {
      if (e.status === 401) return fail(e);
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });

  // --- corrections (shown only where the deployment has POST/GET /v1/corrections) -----------------------------
  async function detectCorrections() {
    if (correctionsAvailable === null) {
      try {
        await api("v1/corrections?limit=1", own());
        correctionsAvailable = true;
      } catch (e) {
        if (e.status === 401) throw e;
        // no such route here (API Gateway says 403, chalice local 404); anything else: ask again later
        if ([403, 404, 405].includes(e.status)) correctionsAvailable = false;
      }
    }
    $("#tile-corrections").hidden = !correctionsAvailable;
    return Boolean(correctionsAvailable);
  }

  const correctionForm = $("#correction-form");
  async function showCorrections() {
    if (!(await detectCorrections())) return showCode();
    show("corrections");
    risk = null;
    const r = await loadRisk();
    const options = r.reasons.filter((x) => CORRECTABLE.includes(x.source)).map((x) =>
      el("option", {value: `${x.source}|${x.code}|${x.ref || ""}`, text: `${x.message} (${x.source_name})`}));
    correctionForm.reason.replaceChildren(...options);
    if (keys.preselect) correctionForm.reason.value = keys.preselect;
    keys.preselect = null;
    const none = !options.length;
    correctionForm.reason.disabled = correctionForm.querySelector("button").disabled = none;
    if (none) correctionForm.reason.append(el("option", {text: "当前没有可纠错的原因 No reason to correct"}));
    await listCorrections();
  }

  // a pending request is looked at again every 30 s while its list is on screen (and on Refresh)
  let correctionsPoll = null;
  async function listCorrections() {
    clearTimeout(correctionsPoll);
    const body = await getJson("v1/corrections?limit=20", own());
    if (body.corrections.some((c) => c.status === "pending")) {
      correctionsPoll = setTimeout(() => {
        if (!$("#screen-corrections").hidden) listCorrections().catch(fail);
      }, 30000);
    }
    $("#correction-list").replaceChildren(...body.corrections.map((c) => {
      const [zh, en] = CORRECTION_STATUS[c.status] || [c.status, ""];
      return el("li", {data: {status: c.status}},
        el("span.chip", {data: {status: c.status}, text: `${zh} ${en}`}), " ", el("strong", {text: c.reason_code}),
        el("p", {text: c.description}),
        el("p.meta", {text: `提交于 filed ${cst(c.created_at)}` + (c.decided_at ? ` · 处理于 decided ${cst(c.decided_at)}` : "")}),
        c.decision_reason ? el("p.decision", {text: `处理意见 Decision: ${c.decision_reason}`}) : null,
        c.lifted_until ? el("p.meta", {text: `更正有效至 corrected until ${cst(c.lifted_until)}`}) : null);
    }));
    if (!body.corrections.length) $("#correction-list").append(el("li.empty", {text: "暂无申请。No requests yet."}));
  }

  correctionForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), done = $(".ok", form), data = new FormData(form);
    showError(box, null);
    done.hidden = true;
    // the reason's ref says which one when the code shows the same reason about two things (docs/corrections.md)
    const [source, reasonCode, ref] = String(data.get("reason") || "").split("|");
    const request = {source, reason_code: reasonCode, description: data.get("description").trim()};
    if (ref) request.ref = ref;
    if (data.get("evidence").trim()) request.evidence = data.get("evidence").trim();
    keys.correction = keys.correction || randomKey();
    form.classList.add("busy");
    try {
      await getJson("v1/corrections", {method: "POST", json: request, ...own(),
                                       headers: {"Idempotency-Key": keys.correction}});
      keys.correction = null;
      form.description.value = form.evidence.value = "";
      done.textContent = "已提交，请留意处理结果。Submitted: follow its status below.";
      done.hidden = false;
      await listCorrections();
    } catch (e) {
      if (e.status === 401) return fail(e);
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });
  correctionForm.addEventListener("input", () => { keys.correction = null; });
  $("#corrections-refresh").addEventListener("click", () => listCorrections().catch(fail));

  window.addEventListener("hashchange", route);
  route();
})();
