/* The venue scan page: the poster's QR opens <base>/venue#<token>; log in if needed, let a guardian tick the
 * family members who came along (GET /v1/me/dependants), record the visit (POST /v1/visits with `members`), and
 * show the pass: the live color full screen, the venue, a running clock with moving parts (a screenshot stops),
 * the masked name, and one card per family member in their own live color (docs/venues.md#family-members). */
"use strict";

(() => {
  const {getJson, showError, el, COLORS, cst, load, save, pad} = HC;
  const $ = (selector, root = document) => root.querySelector(selector);
  const KEY = "hc.citizen";          // the citizen page's session, when this tab has one
  const MEMBERS = "hc.venue.members"; // who was ticked last time in this tab: a family scans together again
  const RELATIONSHIPS = {child: "子女 child", grandchild: "孙辈 grandchild", parent: "父母 parent",
                         grandparent: "祖父母 grandparent", parent_in_law: "岳父母/公婆 parent-in-law",
                         other_relative: "亲属 relative"};
  let session = load(KEY);
  let family = null;                 // my dependants, once read
  let pending = null;                // the venue of this scan: {venue_token} or {venue_number}
  let clockTimer = null;
  let skew = 0;                      // server time minus this device's time, seconds

  function screen(name) {
    for (const id of ["login", "number", "members"]) $(`#screen-${id}`).hidden = id !== name;
  }

  function token() {
    const value = location.hash.slice(1);
    return value && value.includes(".") ? value : null;
  }

  function loggedOut() {
    session = null;
    family = null;
    save(KEY, null);
    screen("login");
  }

  async function dependants() {
    if (family === null) {
      try {
        family = (await getJson("v1/me/dependants", {token: session.token})).dependants;
      } catch (e) {
        if (e.status === 401) throw e;
        family = [];               // the visit matters more than the choice: record the citizen alone
      }
    }
    return family;
  }

  function hidePass() {
    $("#pass").hidden = true;
    document.body.classList.remove("showing-pass");
  }

  // a guardian ticks who came along; anyone else records at once
  async function choose(venue) {
    pending = venue;
    showError($("#page-error"), null);
    if (!session || session.expires_at <= Date.now()) return loggedOut();
    let mine;
    try { mine = await dependants(); } catch (e) { return loggedOut(); }
    if (!mine.length) return record(venue, []);
    const ticked = new Set(load(MEMBERS) || []);
    $("#member-choices").replaceChildren(...mine.map((d) => el("label", {},
      el("input", {type: "checkbox", name: "member", value: d.dependant_id, checked: ticked.has(d.dependant_id)}),
      el("span", {}, el("strong", {text: d.name_masked}), " ",
         el("span.rel", {text: `****${d.id_last4} · ${RELATIONSHIPS[d.relationship] || d.relationship}`})))));
    hidePass();
    screen("members");
  }

  async function record(venue, members) {
    showError($("#page-error"), null);
    if (!session || session.expires_at <= Date.now()) return loggedOut();
    try {
      const json = members.length ? {...venue, members} : venue;
      const pass = await getJson("v1/visits", {method: "POST", token: session.token, json});
      screen(null);
      showPass(pass);
    } catch (e) {
      if (e.status === 401) return loggedOut();
      if (e.code === "unknown_dependant") {   // removed meanwhile, or taken back: read the list again
        family = null;
        await choose(venue);
        showError($("#page-error"), e);
        return;
      }
      if (e.code === "no_code") {
        screen(null);
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
    const cards = (pass.members || []).map(memberCard);
    $("#pass-members").replaceChildren(...cards);
    $("#pass-members").hidden = !cards.length;
    view.classList.toggle("with-members", cards.length > 0);
    $("#pass-family").hidden = !(family && family.length);
    view.hidden = false;
    document.body.classList.add("showing-pass");
    tick();
    clearInterval(clockTimer);
    clockTimer = setInterval(tick, 1000);
  }

  // a family member's card: their own live color, labelled as a family member's shown by me
  function memberCard(m) {
    const color = m.color ? (COLORS[m.color] || {zh: m.color, en: m.color}) : {zh: "无健康码", en: "No code"};
    const relationship = RELATIONSHIPS[m.relationship] || m.relationship;
    let meta;
    if (m.refused === "no_code") meta = "未登记：尚未申领健康码，请先在健康码页面为其申领 · Not recorded: no code yet, apply for one first";
    else if (m.refused) meta = "未登记，请重新扫码 · Not recorded: scan again";
    else meta = `${m.recorded ? "已登记" : "5分钟内已登记"} ${cst(m.visited_at)}` +
      (m.reasons.length ? ` · ${m.reasons.map((r) => r.message).join("；")}` : "");
    return el("section.member-card", {data: {color: m.color || "none", id: m.dependant_id},
                                      "aria-label": `家人 ${m.name_masked}`},
      el("p.member-label", {}, `家人 · 由您代为出示 (${relationship}) `,
         el("span.en", {text: "A family member's pass, shown by you"})),
      el("p.member-who", {text: `${m.name_masked} · ${m.id_last4}`}),
      el("p.member-color", {}, color.zh + " ", el("span.en", {text: color.en})),
      el("p.member-meta", {text: meta}));
  }

  $("#members-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const members = [...form.querySelectorAll("input[name=member]:checked")].map((box) => box.value);
    save(MEMBERS, members);
    form.classList.add("busy");
    try {
      await record(pending, members);
    } finally {
      form.classList.remove("busy");
    }
  });

  // on the pass: tick more family members; a repeat within 5 minutes records only those not recorded yet
  $("#pass-family").addEventListener("click", () => choose(pending));

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
      family = null;
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
      await choose({venue_number: new FormData(form).get("venue_number").replace(/\D/g, "")});
    } finally {
      form.classList.remove("busy");
    }
  });

  async function start() {
    if (!session || session.expires_at <= Date.now()) return screen("login");
    const scanned = token();
    if (scanned) return choose({venue_token: scanned});
    screen("number");
  }

  // another poster's URL opened in this tab changes only the fragment: no new page load
  window.addEventListener("hashchange", () => {
    hidePass();
    start();
  });
  start();
})();
