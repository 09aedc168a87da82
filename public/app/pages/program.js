// @ts-check
/**
 * Program ops (SPEC §8.5, DESIGN §6–7): policy profiles and the policy check (with write-back to
 * a build), secrets (values masked; the plaintext is sent once and never shown), webhook
 * deliveries, idempotent checkpoints and the audit log (tenant admins). Each section loads on its own, so a role that lacks one
 * capability still gets the others, with a notice naming what is missing.
 */
import { audit, builds, program, security } from "../api.js";
import {
  badge,
  busy,
  confirmDialog,
  dateTime,
  dl,
  field,
  h,
  notice,
  replace,
  select,
  shortId,
  splitList,
  table,
  timeAgo,
} from "../dom.js";
import { errorNotice, isForbidden } from "../ui.js";
import { claims } from "../auth.js";
import { repositoriesPanel } from "./repositories-panel.js";

export const title = "Program ops";

/** @param {import("../main.js").PageContext} ctx */
export async function mount(ctx) {
  let stopped = false;
  /** @type {import("../api.js").BuildSummary[]} */
  let recentBuilds = [];

  /** A `<select>` of recent builds (optional first entry). @param {string} name @param {string | null} noneLabel */
  function buildSelect(name, noneLabel) {
    const s = h("select", { name });
    const fill = () => {
      const value = s.value;
      replace(
        s,
        noneLabel !== null ? h("option", { value: "" }, noneLabel) : null,
        recentBuilds.map((b) =>
          h(
            "option",
            { value: b.build_id, selected: b.build_id === value },
            `${shortId(b.build_id)} · ${b.status} · ${b.repo_url}`,
          ),
        ),
      );
      if (noneLabel === null && recentBuilds.length === 0) replace(s, h("option", { value: "" }, "No builds yet"));
    };
    fill();
    return { el: s, fill };
  }

  // ---- policy ----------------------------------------------------------------------------------
  const pName = h("input", { type: "text", name: "profile_name", maxlength: 200, autocomplete: "off" });
  const pCommands = h("textarea", {
    name: "blocked_commands",
    rows: 2,
    class: "mono",
    placeholder: "rm -rf\ncurl | sh",
  });
  const pPaths = h("textarea", { name: "restricted_paths", rows: 2, class: "mono", placeholder: "/.git\n/etc" });
  const pCreate = h("button", { type: "submit", class: "btn btn-primary" }, "Create profile");
  const pCreateResult = h("div");
  const profilesSlot = h("div", { id: "profiles" });
  const profileSelect = h("select", { name: "profile" });
  const checkCommand = h("input", {
    type: "text",
    name: "command",
    class: "mono",
    autocomplete: "off",
    placeholder: "npm test",
  });
  const checkPath = h("input", {
    type: "text",
    name: "path",
    class: "mono",
    autocomplete: "off",
    placeholder: "/src/http/app.ts",
  });
  const checkBuild = buildSelect("policy_build", "No build (decision only)");
  const checkButton = h("button", { type: "submit", class: "btn btn-primary" }, "Check policy");
  const checkResult = h("div", { id: "policy-result" });

  /** @type {import("../api.js").PolicyProfile[]} */
  let profiles = [];
  /** @param {string} [select] the profile to select (default: keep the current selection) */
  async function loadProfiles(select) {
    try {
      profiles = (await program.policyProfiles({ limit: 50 })).items;
    } catch (err) {
      replace(profilesSlot, errorNotice(err, "Loading policy profiles"));
      return;
    }
    if (stopped) return;
    const selectId = select ?? profileSelect.value;
    replace(
      profileSelect,
      profiles.length
        ? profiles.map((p) => h("option", { value: p.profile_id, selected: p.profile_id === selectId }, p.name))
        : h("option", { value: "" }, "No profiles yet"),
    );
    checkButton.disabled = profiles.length === 0;
    replace(
      profilesSlot,
      profiles.length === 0
        ? h("p", { class: "muted" }, "No policy profiles yet.")
        : table(
            "Policy profiles",
            ["Name", "Blocked commands", "Restricted paths", "Created"],
            profiles.map((p) => [
              p.name,
              h("span", { class: "mono" }, p.blocked_commands.join(", ") || "–"),
              h("span", { class: "mono" }, p.restricted_paths.join(", ") || "–"),
              timeAgo(p.created_at),
            ]),
            { captionHidden: true, class: "cards" },
          ),
    );
  }

  const profileForm = h(
    "form",
    { novalidate: true },
    field("Profile name", pName),
    h(
      "div",
      { class: "inline-fields" },
      field("Blocked commands", pCommands, "Case-insensitive substrings."),
      field("Restricted paths", pPaths, "Path prefixes."),
    ),
    h("div", { class: "actions" }, pCreate),
    pCreateResult,
  );
  profileForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!pName.value.trim()) {
      pName.setAttribute("aria-invalid", "true");
      replace(pCreateResult, notice("error", "Name the profile."));
      pName.focus();
      return;
    }
    pName.removeAttribute("aria-invalid");
    void busy(pCreate, async () => {
      try {
        const p = await program.createPolicyProfile({
          name: pName.value.trim(),
          blocked_commands: splitList(pCommands.value),
          restricted_paths: splitList(pPaths.value),
        });
        replace(pCreateResult, notice("ok", `Profile “${p.name}” created.`));
        pName.value = "";
        pCommands.value = "";
        pPaths.value = "";
        await loadProfiles(p.profile_id);
      } catch (err) {
        replace(pCreateResult, errorNotice(err, "Creating the profile"));
      }
    });
  });

  const checkForm = h(
    "form",
    { novalidate: true },
    field("Profile", profileSelect),
    h("div", { class: "inline-fields" }, field("Command", checkCommand), field("Path (optional)", checkPath)),
    field("Write a blocking violation back to", checkBuild.el, "A BLOCK fails that build if it is running."),
    h("div", { class: "actions" }, checkButton),
    checkResult,
  );
  checkForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void busy(checkButton, async () => {
      try {
        const r = await program.policyCheck({
          profile_id: profileSelect.value,
          command: checkCommand.value,
          path: checkPath.value.trim() || null,
          build_id: checkBuild.el.value || null,
        });
        replace(
          checkResult,
          h(
            "div",
            { class: "row" },
            h("span", { class: `badge badge-lg badge-${r.action.toLowerCase()}`, id: "policy-action" }, r.action),
            h("code", null, r.reason),
          ),
          r.violation && r.build_id
            ? notice(
                "warn",
                `Blocking violation ${r.violation.code} recorded on build `,
                h("a", { href: `#/builds/${r.build_id}` }, shortId(r.build_id)),
                ".",
              )
            : null,
        );
      } catch (err) {
        replace(checkResult, errorNotice(err, "The policy check"));
      }
    });
  });

  // ---- secrets ---------------------------------------------------------------------------------
  const sName = h("input", { type: "text", name: "secret_name", maxlength: 200, autocomplete: "off" });
  const sValue = h("input", {
    type: "password",
    name: "secret_value",
    autocomplete: "new-password",
    spellcheck: "false",
  });
  const sCreate = h("button", { type: "submit", class: "btn btn-primary" }, "Store secret");
  const sResult = h("div", { id: "secret-result" });
  const secretsSlot = h("div", { id: "secrets" });

  async function loadSecrets() {
    let page;
    try {
      page = await security.secrets({ limit: 50 });
    } catch (err) {
      secretForm.hidden = isForbidden(err);
      replace(secretsSlot, errorNotice(err, "Loading secrets"));
      return;
    }
    secretForm.hidden = false;
    if (stopped) return;
    replace(
      secretsSlot,
      page.items.length === 0
        ? h("p", { class: "muted" }, "No secrets stored.")
        : table(
            "Secrets",
            ["Name", "Value", "Digest · key", "Created", ""],
            page.items.map((s) => [
              s.name,
              h(
                "span",
                { class: "mono" },
                h("span", { "aria-hidden": "true" }, s.masked_value),
                h("span", { class: "visually-hidden" }, "masked"),
              ),
              h(
                "span",
                null,
                h("span", { class: "mono" }, s.cipher_digest),
                h("span", { class: "muted" }, ` · v${s.key_version}`),
              ),
              timeAgo(s.created_at),
              h(
                "button",
                {
                  type: "button",
                  class: "btn btn-small",
                  "aria-label": `Delete secret ${s.name}`,
                  onclick: async (/** @type {Event} */ e) => {
                    const button = /** @type {HTMLButtonElement} */ (e.currentTarget);
                    const ok = await confirmDialog({
                      title: `Delete secret ${s.name}?`,
                      body: "The encrypted value is removed for good.",
                      confirm: "Delete",
                      danger: true,
                    });
                    if (!ok) return;
                    await busy(button, async () => {
                      try {
                        await security.deleteSecret(s.secret_id);
                        replace(sResult, notice("ok", `Secret “${s.name}” deleted.`));
                        await loadSecrets();
                        sName.focus();
                      } catch (err) {
                        replace(sResult, errorNotice(err, "Deleting the secret"));
                      }
                    });
                  },
                },
                "Delete",
              ),
            ]),
            { captionHidden: true, class: "cards" },
          ),
    );
  }

  const secretForm = h(
    "form",
    { novalidate: true, autocomplete: "off" },
    h(
      "div",
      { class: "inline-fields" },
      field("Name", sName),
      field("Value", sValue, "Sent once over TLS, stored encrypted, never shown again."),
    ),
    h("div", { class: "actions" }, sCreate),
    sResult,
  );
  secretForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const problems = [];
    if (!sName.value.trim()) problems.push("Name the secret.");
    if (sValue.value === "") problems.push("Enter the secret value.");
    if (problems.length) {
      replace(sResult, notice("error", problems.join(" ")));
      (sName.value.trim() ? sValue : sName).focus();
      return;
    }
    void busy(sCreate, async () => {
      const value = sValue.value;
      sValue.value = ""; // never keep the plaintext in the page longer than the request
      try {
        const ref = await security.createSecret({ name: sName.value.trim(), value });
        replace(
          sResult,
          notice(
            "ok",
            `Secret “${ref.name}” stored as `,
            h("code", null, ref.masked_value),
            ` (digest ${ref.cipher_digest}).`,
          ),
        );
        sName.value = "";
        await loadSecrets();
      } catch (err) {
        replace(sResult, errorNotice(err, "Storing the secret"));
      }
    });
  });

  // ---- webhook deliveries ---------------------------------------------------------------------
  const scheme = select(
    { name: "scheme", id: "delivery-scheme" },
    [
      ["", "All schemes"],
      ["platform", "Platform (X-Platform-*)"],
      ["standard", "Standard Webhooks"],
      ["github", "GitHub"],
    ],
    "",
  );
  const schemeRow = h("div", { class: "row" }, h("label", { for: "delivery-scheme" }, "Scheme"), scheme);
  const deliveriesRefresh = h("button", { type: "button", class: "btn btn-small" }, "Refresh");
  const deliveriesSlot = h("div", { id: "deliveries" });
  const deliveryDetail = h("div", { id: "delivery-detail", tabindex: "-1" });
  /** @type {import("../api.js").WebhookDelivery[]} */
  let deliveries = [];
  /** @type {string | number | null} */
  let deliveriesCursor = null;

  async function loadDeliveries(more = false) {
    const wanted = scheme.value;
    let page;
    try {
      page = await security.deliveries({
        limit: 20,
        scheme: wanted || undefined,
        cursor: more ? String(deliveriesCursor) : undefined,
      });
      if (scheme.value !== wanted) return; // the filter changed meanwhile; its own load renders
    } catch (err) {
      schemeRow.hidden = isForbidden(err);
      replace(deliveriesSlot, errorNotice(err, "Loading webhook deliveries"));
      return;
    }
    schemeRow.hidden = false;
    if (stopped) return;
    deliveries = more ? [...deliveries, ...page.items] : page.items;
    deliveriesCursor = page.next_cursor;
    replace(
      deliveriesSlot,
      deliveries.length === 0
        ? h("p", { class: "muted" }, "No webhook deliveries accepted yet.")
        : table(
            "Webhook deliveries",
            ["Received", "Scheme", "Delivery id", "Size", "Body digest", ""],
            deliveries.map((d) => [
              timeAgo(d.received_at),
              d.scheme,
              h("span", { class: "mono" }, d.external_id),
              `${d.body_bytes} B`,
              h("span", { class: "mono" }, d.body_digest.slice(0, 16)),
              h(
                "button",
                {
                  type: "button",
                  class: "btn btn-small",
                  "aria-label": `View delivery ${d.external_id}`,
                  onclick: () => void showDelivery(d.delivery_id),
                },
                "View",
              ),
            ]),
            { captionHidden: true, class: "cards" },
          ),
      deliveriesCursor !== null
        ? h(
            "div",
            { class: "pager" },
            h(
              "button",
              { type: "button", class: "btn btn-small", onclick: () => void loadDeliveries(true) },
              "Load more",
            ),
          )
        : null,
    );
  }

  /** @param {string} id */
  async function showDelivery(id) {
    try {
      const d = await security.delivery(id);
      replace(
        deliveryDetail,
        h("h3", null, `Delivery ${d.external_id}`),
        dl([
          ["Scheme", d.scheme],
          ["Signed at", dateTime(new Date(d.signed_at * 1000).toISOString())],
          ["Received", dateTime(d.received_at)],
          ["Content type", d.content_type ?? "–"],
          ["Digest", h("span", { class: "mono" }, d.body_digest)],
          ...(d.event === null
            ? []
            : /** @type {[string, import("../dom.js").Children][]} */ ([
                ["Event", d.event],
                ["Outcome", `${d.outcome ?? "stored"}${d.outcome_reason ? ` (${d.outcome_reason})` : ""}`],
                ["Build", d.build_id ? h("a", { href: `#/builds/${d.build_id}` }, d.build_id) : "–"],
              ])),
        ]),
        h(
          "pre",
          { class: "body-preview", tabindex: "0", "aria-label": "Delivery body" },
          d.body_encoding === "base64" ? `(base64) ${d.body}` : d.body,
        ),
      );
      deliveryDetail.focus();
    } catch (err) {
      replace(deliveryDetail, errorNotice(err, "Loading the delivery"));
    }
  }
  scheme.addEventListener("change", () => void loadDeliveries());
  deliveriesRefresh.addEventListener("click", () => void busy(deliveriesRefresh, () => loadDeliveries()));

  // ---- idempotent checkpoints -----------------------------------------------------------------
  const icBuild = buildSelect("checkpoint_build", null);
  const icKey = h("input", {
    type: "text",
    name: "idempotency_key",
    class: "mono",
    value: crypto.randomUUID(),
    maxlength: 255,
    autocomplete: "off",
  });
  const icNewKey = h(
    "button",
    { type: "button", class: "btn btn-small", onclick: () => void (icKey.value = crypto.randomUUID()) },
    "New key",
  );
  const icReason = h("input", {
    type: "text",
    name: "checkpoint_reason",
    value: "idempotent_checkpoint",
    maxlength: 1000,
    autocomplete: "off",
  });
  const icButton = h("button", { type: "submit", class: "btn btn-primary" }, "Create checkpoint");
  const icResult = h("div", { id: "checkpoint-result" });
  const icForm = h(
    "form",
    { novalidate: true },
    field("Build", icBuild.el),
    h(
      "div",
      { class: "row row-end" },
      h("div", { class: "field spacer" }, h("label", { for: "ic-key" }, "Idempotency key"), icKey),
      icNewKey,
    ),
    field("Reason", icReason),
    h("div", { class: "actions" }, icButton),
    icResult,
  );
  icKey.id = "ic-key";
  icForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!icBuild.el.value) {
      replace(icResult, notice("error", "Pick a build first."));
      return;
    }
    void busy(icButton, async () => {
      try {
        const r = await security.idempotentCheckpoint({
          build_id: icBuild.el.value,
          idempotency_key: icKey.value,
          reason: icReason.value.trim() || "idempotent_checkpoint",
        });
        replace(
          icResult,
          notice(
            r.replayed ? "info" : "ok",
            r.replayed
              ? "Replayed: this key already created a checkpoint; nothing new was written."
              : "Checkpoint created.",
          ),
          dl([
            ["Checkpoint", h("span", { class: "mono", id: "checkpoint-id" }, r.checkpoint_id)],
            ["Build status", badge(r.status)],
            ["Reason", r.reason],
            ["Replayed", h("span", { id: "checkpoint-replayed" }, r.replayed ? "yes" : "no")],
          ]),
        );
      } catch (err) {
        replace(icResult, errorNotice(err, "The idempotent checkpoint"));
      }
    });
  });

  // ---- audit log (tenant admins) ----------------------------------------------------------------
  const auActor = h("input", {
    type: "text",
    name: "audit_actor",
    id: "audit-actor",
    class: "mono",
    autocomplete: "off",
    placeholder: "sub",
  });
  const auAction = h("input", {
    type: "text",
    name: "audit_action",
    id: "audit-action",
    class: "mono",
    autocomplete: "off",
    placeholder: "build.abort",
  });
  const auTarget = h("input", {
    type: "text",
    name: "audit_target",
    id: "audit-target",
    class: "mono",
    autocomplete: "off",
    placeholder: "build:<id> or secret",
  });
  const auButton = h("button", { type: "submit", class: "btn btn-small" }, "Filter");
  const auditSlot = h("div", { id: "audit" });
  /** @type {import("../api.js").AuditEntry[]} */
  let auditItems = [];
  /** @type {string | null} */
  let auditCursor = null;

  async function loadAudit(more = false) {
    let page;
    try {
      page = await audit.list({
        limit: 25,
        actor: auActor.value.trim() || undefined,
        action: auAction.value.trim() || undefined,
        target: auTarget.value.trim() || undefined,
        cursor: more ? auditCursor : undefined,
      });
    } catch (err) {
      replace(
        auditSlot,
        isForbidden(err)
          ? notice("info", "The audit log is for tenant administrators.")
          : errorNotice(err, "Loading the audit log"),
      );
      return;
    }
    if (stopped) return;
    auditItems = more ? [...auditItems, ...page.items] : page.items;
    auditCursor = page.next_cursor === null ? null : String(page.next_cursor);
    replace(
      auditSlot,
      auditItems.length === 0
        ? h("p", { class: "muted" }, "No audit entries match.")
        : table(
            "Audit log",
            ["When", "Actor", "Action", "Target", "Request"],
            auditItems.map((e) => [
              timeAgo(e.created_at),
              h("span", { class: "mono" }, e.actor.sub),
              h("span", { class: "mono" }, e.action),
              h(
                "span",
                { class: "mono" },
                `${e.target_type}:${e.target_type === "build" || e.target_type === "secret" || e.target_type === "policy_profile" ? shortId(e.target_id) : e.target_id}`,
              ),
              h("span", { class: "mono" }, shortId(e.request_id)),
            ]),
            { captionHidden: true, class: "cards" },
          ),
      auditCursor !== null
        ? h(
            "div",
            { class: "pager" },
            h("button", { type: "button", class: "btn btn-small", onclick: () => void loadAudit(true) }, "Load more"),
          )
        : null,
    );
  }
  const auditForm = h(
    "form",
    { novalidate: true },
    h("div", { class: "inline-fields" }, field("Actor", auActor), field("Action", auAction), field("Target", auTarget)),
    h("div", { class: "actions" }, auButton),
  );
  auditForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void busy(auButton, () => loadAudit());
  });

  // ---- repositories (issue 21) -------------------------------------------------------------------
  const tokenClaims = claims();
  const tenantClaim = tokenClaims?.org_id ?? tokenClaims?.sub;
  const repositories = repositoriesPanel({ tenantId: typeof tenantClaim === "string" ? tenantClaim : null });

  // ---- layout -----------------------------------------------------------------------------------
  ctx.main.append(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        null,
        h("h1", null, "Program ops"),
        h(
          "p",
          { class: "sub" },
          "Policy, secrets, repositories, webhook deliveries, idempotent checkpoints and the audit log",
        ),
      ),
      h("a", { class: "btn", href: "#/release" }, "Release readiness"),
    ),
    h(
      "div",
      { class: "grid-2 wide" },
      h(
        "section",
        { class: "card", "aria-labelledby": "pol-h" },
        h("h2", { id: "pol-h" }, "Policy profiles"),
        h("details", { class: "card-sub" }, h("summary", null, "New profile"), profileForm),
        profilesSlot,
        h("h3", null, "Policy check"),
        checkForm,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "sec-h" },
        h("h2", { id: "sec-h" }, "Secrets"),
        secretForm,
        secretsSlot,
      ),
      repositories.card,
      h(
        "section",
        { class: "card", "aria-labelledby": "wh-h" },
        h("div", { class: "card-head" }, h("h2", { id: "wh-h" }, "Webhook deliveries"), deliveriesRefresh),
        schemeRow,
        deliveriesSlot,
        deliveryDetail,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "ic-h" },
        h("h2", { id: "ic-h" }, "Idempotent checkpoints"),
        icForm,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "au-h" },
        h("h2", { id: "au-h" }, "Audit log"),
        auditForm,
        auditSlot,
      ),
    ),
  );

  void loadProfiles();
  void loadSecrets();
  void loadDeliveries();
  void repositories.load();
  void loadAudit();
  void builds
    .list({ limit: 20 })
    .then((page) => {
      recentBuilds = page.items;
      checkBuild.fill();
      icBuild.fill();
    })
    .catch(() => undefined);
  return () => {
    stopped = true;
  };
}
