/* healthcode web client: what the citizen and checkpoint pages share.
 * Plain browser JavaScript, no build step. Every call goes to the public HTTP API by a relative URL
 * ("v1/..."), so the pages work at the root of `chalice local` and under API Gateway's stage prefix. */
"use strict";

const HC = (() => {
  // docs/errors.md, and the codes the services raise, in words a person understands
  const ERRORS = {
    network: ["无法连接服务器，请检查网络后重试。", "Cannot reach the server. Check the connection and try again."],
    malformed_json: ["请求格式有误，请刷新页面后重试。", "The request was malformed. Reload the page and try again."],
    bad_request: ["请求有误，请刷新页面后重试。", "The request was not understood. Reload the page and try again."],
    unauthenticated: ["登录已失效，请重新登录。", "You are not logged in, or the login is no longer valid. Log in again."],
    token_expired: ["登录已过期，请重新登录。", "Your login has expired. Log in again."],
    invalid_client: ["客户端编号或密钥不正确，或该客户端已停用。", "Unknown client, wrong secret, or the client has been revoked."],
    invalid_assertion: ["身份认证未通过，请重新认证。", "The identity check did not pass. Authenticate again."],
    idp_not_configured: ["身份认证服务暂不可用。", "The identity provider is not configured."],
    forbidden: ["当前账号无权进行此操作。", "This account may not do that."],
    outside_province: ["只能处理本省的数据。", "Only data of your own province can be handled."],
    self_assertion_disabled: ["正式环境不支持自行填写身份登录。", "Self-asserted login is disabled here; use the official identity service."],
    no_code: ["您还没有申领健康码，请先填写健康申报。", "You have no health code yet. Fill in the health declaration first."],
    not_found: ["未找到相关内容。", "Not found."],
    unknown_area: ["未找到该地区代码。", "No such area code."],
    unknown_province: ["未找到该省份。", "No such province."],
    unknown_correction: ["未找到该纠错申请。", "No such correction request."],
    unknown_venue: ["未找到该场所，请核对场所编号。", "No such venue. Check the number."],
    venue_inactive: ["该场所已停用扫码登记。", "This venue is closed for scanning."],
    invalid_venue_token: ["无法识别的场所码，请输入海报上的场所编号。", "Not a valid venue code. Type the venue number from the poster."],
    venue_token_revoked: ["该场所码已更换，请扫描场所的新海报。", "This venue code was replaced. Scan the venue's current poster."],
    method_not_allowed: ["不支持此操作。", "That operation is not supported."],
    concurrent_update: ["数据正在更新，请稍后重试。", "The record is being updated. Try again in a moment."],
    request_in_progress: ["上一次提交仍在处理中，请稍候。", "The previous submission is still being processed. Wait a moment."],
    code_revoked: ["您的健康码已被撤销，请联系当地卫生健康部门。", "Your health code has been revoked. Contact the local health authority."],
    already_decided: ["该申请已处理。", "This request has already been decided."],
    too_many_open_corrections: ["您已有多项纠错申请在处理中，请等待处理结果。", "You have too many open correction requests. Wait for a decision."],
    payload_too_large: ["提交的内容过长。", "What you sent is too long."],
    unsupported_media_type: ["请求格式不受支持，请刷新页面后重试。", "Unsupported request format. Reload the page and try again."],
    validation_failed: ["填写的信息有误，请检查：", "Some fields need attention:"],
    unsupported_grant_type: ["登录方式不受支持。", "That login method is not supported."],
    idempotency_key_reused: ["提交内容有变化，请重新提交。", "The form changed since the last try. Submit again."],
    too_many_requests: ["操作过于频繁，请稍后再试。", "Too many requests in a short time. Try again shortly."],
    service_unavailable: ["服务暂时不可用，请稍后重试。", "The service is unavailable. Try again later."],
    internal_error: ["系统繁忙，请稍后重试。", "Something went wrong on our side. Try again later."],
    unknown_dependant: ["未找到该家人，可能已被移除。", "No such family member: they may have been removed."],
    not_for_dependants: ["此操作只能为自己办理。", "This can only be done for yourself."],
    too_many_dependants: ["最多可添加5位家人。", "You can add at most 5 family members."],
    too_many_guardians: ["该家人已有两位监护人。", "This person already has two guardians."],
    already_linked: ["该家人已添加，或已自行收回健康码。", "Already added, or they took their code back from you."],
    unknown_guardian: ["未找到该监护人。", "No such guardian."],
  };
  const BY_STATUS = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "concurrent_update",
                     413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
                     429: "too_many_requests", 503: "service_unavailable"};

  // verification refusals (docs/errors.md): not errors, but what the checkpoint must be told
  const REFUSALS = {
    malformed: ["无法识别的二维码", "Not a health code", "这不是有效的健康码，请出示健康码。", "This is not a valid health code; ask for the health code."],
    bad_signature: ["二维码被篡改或伪造", "Forged or altered code", "签名校验失败，请勿放行，请人工核查。", "The signature does not verify. Do not let through; check in person."],
    unknown_key: ["无法核验的二维码", "Unverifiable code", "签发密钥不被认可，请人工核查。", "Signed by a key the platform does not know. Check in person."],
    expired: ["二维码已过期", "Code expired", "可能是截图。请持码人刷新健康码后重新出示。", "Possibly a screenshot. Ask the holder to refresh the code and show it again."],
    unknown_code: ["查无此码", "Unknown code", "平台上没有这个健康码，请人工核查。", "The platform has no such code. Check in person."],
    revoked: ["健康码已撤销", "Code revoked", "该健康码已被撤销，请联系卫生健康部门。", "This code has been revoked. Contact the health authority."],
  };

  const FIELDS = {
    name: "姓名 Name", id_number: "身份证号 ID number", phone: "手机号 Phone", temperature: "体温 Temperature",
    symptoms: "症状 Symptoms", contact_with_cases: "接触史 Contact", stayed_in_high_risk_area: "高风险地区 High-risk stay",
    current_area: "当前所在地 Current area", date: "日期 Date", from: "出发地 From", to: "目的地 To",
    mode: "交通方式 Mode", number: "车次/航班号 Number", seat: "座位号 Seat", carriage: "车厢 Carriage",
    area: "打卡地 Area", token: "二维码 Code", checkpoint_id: "核验点编号 Checkpoint", description: "说明 Description",
    evidence: "证明材料 Evidence", reason_code: "原因 Reason", source: "来源 Source", client_id: "客户端编号 Client ID",
    client_secret: "密钥 Secret", venue_token: "场所码 Venue code", venue_number: "场所编号 Venue number",
    grant_type: "登录方式 Grant", self_asserted: "身份信息 Identity", "(body)": "内容 Body",
    document_type: "证件类型 Document", nationality: "国籍 Nationality", birth_date: "出生日期 Birth date",
    relationship: "关系 Relationship",
  };
  const DETAIL_TYPES = {
    missing: "必填 required", greater_than_equal: "数值过小 too low", less_than_equal: "数值过大 too high",
    greater_than: "数值过小 too low", less_than: "数值过大 too high", string_too_short: "太短 too short",
    string_too_long: "太长 too long", too_long: "太多 too many", date_from_datetime_parsing: "日期格式不正确 not a date",
    date_parsing: "日期格式不正确 not a date", float_parsing: "请输入数字 enter a number", float_type: "请输入数字 enter a number",
    int_parsing: "请输入整数 enter a whole number", string_pattern_mismatch: "格式不正确 wrong format",
    extra_forbidden: "不应填写 not expected", literal_error: "请选择一项 choose one", enum: "请选择一项 choose one",
  };
  const MESSAGES = [  // our own validators' messages (pydantic value errors) -> Chinese
    [/administrative division code/, "不是有效的行政区划代码（6位数字，如 510104） not a valid 6-digit area code"],
    [/resident ID number|check digit|ID number/i, "身份证号码无效 not a valid resident ID number"],
    [/personal name/, "请填写中文或英文姓名 a name in Chinese characters or Latin letters"],
    [/within the last 14 days/, "须在最近14天内 must be within the last 14 days"],
    [/within the last \d+ days/, "超出可查询的日期范围 outside the allowed dates"],
    [/must not be in the future/, "不能是将来的日期 must not be in the future"],
    [/flight number/, "航班号格式如 CA1234 a flight number such as CA1234"],
    [/train number/, "车次格式如 G1234 a train number such as G1234"],
    [/flight seat/, "座位号格式如 32A a seat such as 32A"],
    [/only flights and trains/, "只有航班和火车需要填写 only flights and trains have one"],
    [/only trains have carriages/, "只有火车有车厢 only trains have carriages"],
    [/required for a/, "必填 required"],
    [/symptoms must not repeat/, "症状重复 a symptom is repeated"],
  ];

  function explainDetail(d) {
    const name = String(d.field || "").split(".").filter((p) => !/^\d+$/.test(p)).pop() || "(body)";
    const label = FIELDS[name] || name;
    const known = MESSAGES.find(([re]) => re.test(d.message || ""));
    const what = known ? known[1] : (DETAIL_TYPES[d.type] ? `${DETAIL_TYPES[d.type]}（${d.message}）` : d.message);
    return `${label}：${what}`;
  }

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message || code);
      this.status = status; this.code = code; this.details = Array.isArray(details) ? details : [];
    }
  }

  /** Words for an error: {zh, en, lines} */
  function explain(err) {
    if (!(err instanceof ApiError)) {
      return {zh: "出错了，请重试。", en: String(err && err.message || err), lines: []};
    }
    const [zh, en] = ERRORS[err.code] || ERRORS[BY_STATUS[err.status]] ||
      (err.status >= 500 ? ERRORS.internal_error : ["请求未成功。", err.message || "The request did not succeed."]);
    const lines = err.code === "validation_failed" || err.status === 422 ? err.details.map(explainDetail) : [];
    if (err.status === 422 && !lines.length && err.message) lines.push(err.message);
    return {zh, en, lines};
  }

  async function api(path, {method = "GET", token, acting, json, form, headers = {}, signal} = {}) {
    const h = {Accept: "application/json", ...headers};
    let body;
    if (token) h.Authorization = `Bearer ${token}`;
    if (acting) h["X-Acting-For"] = acting;   // a guardian acting for a dependant (docs/identity.md)
    if (json !== undefined) { h["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    if (form !== undefined) { h["Content-Type"] = "application/x-www-form-urlencoded"; body = new URLSearchParams(form).toString(); }
    let res;
    try {
      res = await fetch(path, {method, headers: h, body, cache: "no-store", credentials: "omit", signal});
    } catch (e) {
      throw new ApiError(0, "network", String(e), []);
    }
    if (res.ok) return res;
    let code = "", message = "", details = [];
    try {
      const payload = await res.json();
      if (payload && payload.error) ({code, message, details} = payload.error);
    } catch (e) { /* not JSON: fall back on the status */ }
    throw new ApiError(res.status, code || BY_STATUS[res.status] || `http_${res.status}`, message, details);
  }

  async function getJson(path, options) {
    const res = await api(path, options);
    return res.status === 204 ? null : res.json();
  }

  // a tiny element builder: el("p.note", {text: "..."}, child, ...)
  function el(spec, attrs = {}, ...children) {
    const [tag, ...classes] = spec.split(".");
    const node = document.createElement(tag || "div");
    if (classes.length) node.className = classes.join(" ");
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k === "data") for (const [dk, dv] of Object.entries(v)) node.dataset[dk] = dv;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }

  /** Show an error (or clear with null) in a .error box */
  function showError(box, err) {
    if (!box) return;
    box.replaceChildren();
    box.hidden = !err;
    if (!err) return;
    const {zh, en, lines} = typeof err === "string" ? {zh: err, en: "", lines: []} : explain(err);
    box.append(el("strong", {text: zh}), en ? el("span.en", {text: en}) : "");
    if (lines.length) box.append(el("ul", {}, lines.map((l) => el("li", {text: l}))));
    box.setAttribute("role", "alert");
    if (err instanceof ApiError) box.dataset.code = err.code;
  }

  const COLORS = {
    green: {zh: "绿码", en: "Green"},
    yellow: {zh: "黄码", en: "Yellow"},
    red: {zh: "红码", en: "Red"},
  };
  const LEVELS = {low: ["低风险", "Low risk"], medium: ["中风险", "Medium risk"], high: ["高风险", "High risk"]};
  const SYMPTOMS = [
    ["fever", "发热", "Fever"], ["cough", "咳嗽", "Cough"], ["fatigue", "乏力", "Fatigue"],
    ["sore_throat", "咽痛", "Sore throat"], ["shortness_of_breath", "呼吸困难", "Shortness of breath"],
    ["diarrhoea", "腹泻", "Diarrhoea"], ["loss_of_taste_or_smell", "嗅觉味觉减退", "Loss of taste or smell"],
  ];

  function pad(n) { return String(n).padStart(2, "0"); }
  // times are shown in China Standard Time, as the platform dates days
  function cst(epochSeconds) {
    const d = new Date((epochSeconds + 8 * 3600) * 1000);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }
  function cstDate(epochSeconds) { return cst(epochSeconds).slice(0, 10); }
  function today(offsetDays = 0) { return cstDate(Math.floor(Date.now() / 1000) - offsetDays * 86400); }

  function randomKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // session storage: gone when the tab closes, never sent anywhere but in Authorization headers
  function load(key) {
    try { return JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function save(key, value) {
    if (value === null) sessionStorage.removeItem(key); else sessionStorage.setItem(key, JSON.stringify(value));
  }

  // an area code input shows the area's name (GET /v1/areas/{code}, public) beside it
  function areaHint(input) {
    const hint = el("small.hint", {"aria-live": "polite"});
    input.after(hint);
    const look = async () => {
      const code = input.value.trim();
      hint.textContent = "";
      if (!/^\d{6}$/.test(code)) return;
      try {
        const area = await getJson(`v1/areas/${code}`);
        const [zh, en] = LEVELS[area.level] || [area.level, ""];
        hint.textContent = `${area.name} · ${zh} ${en}`;
        hint.dataset.level = area.level;
      } catch (e) {
        hint.textContent = e.code === "unknown_area" ? "未找到该地区代码 No such area code" : "";
      }
    };
    input.addEventListener("change", look);
    input.addEventListener("blur", look);
    if (input.value) look();
    return hint;
  }

  return {api, getJson, ApiError, explain, showError, el, COLORS, LEVELS, SYMPTOMS, REFUSALS, cst, cstDate, today,
          randomKey, load, save, areaHint, pad};
})();
