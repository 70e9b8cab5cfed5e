/* The venue scan page: the poster's QR opens <base>/venue#<token>; log in if needed, record the visit
 * (POST /v1/visits), and show the pass: the live color full screen, the venue, a running clock with moving
 * parts (a screenshot stops), the masked name. */
"use strict";

(() => {
  const {getJson, showError, COLORS, cst, load, save, pad} = HC;
  const $ = (selector, root = document) => root.querySelector(selector);
  const KEY = "hc.citizen";          // the citizen page's session, when this tab has one
  let session = load(KEY);
  let clockTimer = null;
  let skew = 0;                      // server time minus this device's time, seconds

  function screen(name) {
    for (const id of ["login", "number"]) $(`#screen-${id}`).hidden = id !== name;
  }

  function token() {
    const value = location.hash.slice(1);
    return value && value.includes(".") ? value : null;
  }

  async function record(body) {
    showError($("#page-error"), null);
    if (!session || session.expires_at <= Date.now()) { session = null; return screen("login"); }
    try {
      const pass = await getJson("v1/visits", {method: "POST", token: session.token, json: body});
      showPass(pass);
    } catch (e) {
      if (e.status === 401) { session = null; save(KEY, null); return screen("login"); }
      if (e.code === "no_code") {
        showError($("#page-error"), e);
        return;
      }
      screen("number");
      showError($("#page-error"), e);
    }
  }

  function tick() {
    const now = Date.now() / 1000 + skew;
    const d = new Date((now + 8 * 3600) * 1000);
    $("#pass-clock").textContent = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    $("#pass-clock").dataset.epoch = String(Math.floor(now));
  }

  function showPass(pass) {
    skew = pass.checked_at - Date.now() / 1000;
    const color = COLORS[pass.color] || {zh: pass.color, en: pass.color};
    const view = $("#pass");
    view.dataset.color = pass.color;
    $("#pass-venue").textContent = pass.venue.name;
    $("#pass-color").replaceChildren(color.zh + " ", Object.assign(document.createElement("span"),
      {className: "en", textContent: color.en}));
    $("#pass-who").textContent = `${pass.name_masked} · ${pass.id_last4}`;
    $("#pass-meta").textContent = `${pass.recorded ? "已登记" : "5分钟内已登记"} ${cst(pass.visited_at)} · ` +
      `${pass.venue.county_name || pass.venue.county} · 场所编号 ${pass.venue.number}`;
    $("#pass-reasons").textContent = pass.reasons.map((r) => r.message).join("；");
    view.hidden = false;
    document.body.classList.add("showing-pass");
    tick();
    clearInterval(clockTimer);
    clockTimer = setInterval(tick, 1000);
  }

  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, box = $(".error", form), data = new FormData(form);
    showError(box, null);
    form.classList.add("busy");
    try {
      const body = await getJson("v1/sessions", {method: "POST", json: {self_asserted: {
        name: data.get("name").trim(), id_number: data.get("id_number").trim().toUpperCase(),
        phone: data.get("phone").trim()}}});
      session = {token: body.access_token, expires_at: Date.now() + (body.expires_in - 30) * 1000,
                 name_masked: body.name_masked, id_last4: body.id_last4};
      save(KEY, session);
      form.reset();
      screen(null);
      await start();
    } catch (e) {
      showError(box, e);
    } finally {
      form.classList.remove("busy");
    }
  });

  $("#number-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    form.classList.add("busy");
    try {
      await record({venue_number: new FormData(form).get("venue_number").replace(/\D/g, "")});
    } finally {
      form.classList.remove("busy");
    }
  });

  async function start() {
    if (!session || session.expires_at <= Date.now()) return screen("login");
    const scanned = token();
    if (scanned) return record({venue_token: scanned});
    screen("number");
  }

  // another poster's URL opened in this tab changes only the fragment: no new page load
  window.addEventListener("hashchange", () => {
    $("#pass").hidden = true;
    document.body.classList.remove("showing-pass");
    start();
  });
  start();
})();
