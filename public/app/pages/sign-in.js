// @ts-check
/**
 * Sign-in: paste a bearer token (checked against the API before it is kept), or — only when the
 * control plane answers GET /v1/dev/token, i.e. local development — one click for a development
 * token of the chosen role. The token is kept in sessionStorage (auth.js).
 */
import { ApiError, dev, probeToken } from "../api.js";
import { setToken } from "../auth.js";
import { busy, field, h, notice, replace, select } from "../dom.js";
import { errorNotice } from "../ui.js";

export const title = "Sign in";

/** Only same-app hashes may be a post-sign-in destination. @param {string | null} next */
function safeNext(next) {
  return next && /^#\/[\w/?=&%.-]*$/.test(next) && !next.startsWith("#/sign-in") ? next : "#/builds";
}

/** @param {import("../main.js").PageContext} ctx */
export async function mount(ctx) {
  const next = safeNext(ctx.query.get("next"));
  const status = h("div", { class: "sign-in-status" });
  const devSlot = h("div");
  const tokenInput = h("textarea", {
    name: "token",
    rows: 4,
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    class: "mono",
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  const form = h(
    "form",
    { novalidate: true },
    field(
      "API token (JWT)",
      tokenInput,
      "Paste a bearer token issued for this control plane. It stays in this browser tab only.",
    ),
    h("div", { class: "actions" }, submit),
  );

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const token = tokenInput.value.trim().replace(/^Bearer\s+/i, "");
    if (token === "") {
      tokenInput.setAttribute("aria-invalid", "true");
      replace(status, notice("error", "Paste a token first."));
      tokenInput.focus();
      return;
    }
    void busy(submit, async () => {
      try {
        await probeToken(token);
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
          tokenInput.setAttribute("aria-invalid", "true");
          replace(
            status,
            notice("error", h("strong", null, "Token rejected. "), err.detail || err.title, ` (${err.code})`),
          );
          tokenInput.focus();
          return;
        }
        replace(status, errorNotice(err, "Checking the token"));
        return;
      }
      setToken(token);
      ctx.navigate(next);
    });
  });

  ctx.main.append(
    h(
      "div",
      { class: "sign-in" },
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          null,
          h("h1", null, "Sign in"),
          h("p", { class: "sub" }, "Operator dashboard of the Clarity control plane"),
        ),
      ),
      ctx.query.get("expired")
        ? notice("warn", "Your session ended or the token was rejected (401). Sign in again.")
        : null,
      status,
      h(
        "section",
        { class: "card", "aria-labelledby": "signin-token" },
        h("h2", { id: "signin-token" }, "Use a token"),
        form,
        devSlot,
      ),
    ),
  );

  const info = await dev.info();
  if (!info) return;
  const role = select(
    { name: "role" },
    info.roles.map((r) => [r, r]),
    "operator",
  );
  const devButton = h("button", { type: "button", class: "btn btn-primary" }, "Sign in with a development token");
  devButton.addEventListener("click", () =>
    busy(devButton, async () => {
      try {
        const minted = await dev.token(role.value);
        setToken(minted.token);
        ctx.navigate(next);
      } catch (err) {
        replace(status, errorNotice(err, "Getting a development token"));
      }
    }),
  );
  replace(
    devSlot,
    h("div", { class: "divider" }, "or, in local development"),
    h(
      "div",
      { class: "dev-sign-in" },
      field(
        "Development role",
        role,
        "Local development only: signed with this checkout's .dev.vars secret, rejected by any deployed control plane.",
      ),
      devButton,
    ),
  );
}
