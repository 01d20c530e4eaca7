// Sign up and log in.

import { h } from "./dom";
import { field } from "./dom";
import { bank, endSession, signedIn, startSession } from "./session";
import { InputError, form, page, value } from "./ui";

function emailInput(): HTMLInputElement {
  return h("input", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254 });
}

export function loginPage(): void {
  const f = form(
    "Log in",
    [field("Email", emailInput()), field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true, maxlength: 128 }))],
    "Log in",
    async (el) => {
      const email = value(el, "email").trim();
      const password = value(el, "password");
      if (email === "" || password === "") throw new InputError("Enter your email and password.");
      const response = await bank.auth.login({ email, password });
      if (response.tokens === undefined || response.user === undefined) throw new Error("The bank sent no session.");
      startSession(response.tokens, response.user);
      location.hash = signedIn()?.admin ? "#/admin/applications" : "#/accounts";
    },
  );
  page(
    "Log in",
    f,
    h("p", {}, "New to the bank? ", h("a", { href: "#/signup" }, "Create an account")),
  );
}

export function signupPage(): void {
  const f = form(
    "Sign up",
    [
      field("Email", emailInput()),
      field(
        "Password",
        h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 12, maxlength: 128 }),
        "At least 12 characters; not a common password and not your email.",
      ),
    ],
    "Create account",
    async (el) => {
      const email = value(el, "email").trim();
      const password = value(el, "password");
      if (email === "") throw new InputError("Enter your email.");
      if ([...password].length < 12) throw new InputError("The password needs at least 12 characters.");
      await bank.auth.signUp({ email, password });
      endSession();
      location.hash = `#/login?registered=1`;
    },
  );
  page("Create your account", f, h("p", {}, "Already a member? ", h("a", { href: "#/login" }, "Log in")));
}

export async function logout(): Promise<void> {
  try {
    await bank.auth.logout({ allSessions: false });
  } catch {
    // The session ends locally either way.
  }
  endSession();
  location.hash = "#/login";
}
