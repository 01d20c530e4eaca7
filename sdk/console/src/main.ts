// The bank console: a single page served by the gateway at `/`, talking to
// the mesh only through grpc-web with the TypeScript SDK. Pages are chosen
// by the URL fragment (#/accounts, #/admin/applications, ...), so the
// gateway serves one HTML file and two assets.

import { applicationsPage, allAccountsPage, eventsPage, flaggedPage, leaveEvents, optionsPage } from "./admin";
import { loginPage, logout, signupPage } from "./auth";
import { h, replace } from "./dom";
import { loanPage, loansPage } from "./loans";
import { accountPage, accountsPage, transferPage } from "./member";
import { isAdmin, signedIn } from "./session";
import { page } from "./ui";

const MEMBER_LINKS: [string, string][] = [
  ["#/accounts", "Accounts"],
  ["#/transfer", "Send money"],
  ["#/loans", "Loans"],
];
const ADMIN_LINKS: [string, string][] = [
  ["#/admin/applications", "Applications"],
  ["#/admin/options", "Financing options"],
  ["#/admin/accounts", "All accounts"],
  ["#/admin/flagged", "Flagged transfers"],
  ["#/admin/events", "Live events"],
];

function nav(path: string): void {
  const bar = document.getElementById("nav")!;
  const session = signedIn();
  if (session === undefined) {
    replace(bar);
    return;
  }
  // A link to the page shown reloads it (the hash would not change).
  const again = (href: string) => (event: Event) => {
    if (location.hash === href) {
      event.preventDefault();
      route();
    }
  };
  const link = ([href, text]: [string, string]) =>
    h("li", {}, h("a", { href, onclick: again(href), "aria-current": path === href.slice(1) || path.startsWith(`${href.slice(1)}/`) ? "page" : false }, text));
  const out = h("button", { type: "button", class: "link" }, "Log out");
  out.addEventListener("click", () => void logout());
  replace(
    bar,
    h("ul", { "aria-label": "Member" }, ...MEMBER_LINKS.map(link)),
    isAdmin() ? h("ul", { "aria-label": "Admin", class: "admin" }, ...ADMIN_LINKS.map(link)) : null,
    h("p", { class: "who" }, session.email, " ", out),
  );
}

function route(): void {
  leaveEvents();
  const [rawPath = "", query = ""] = location.hash.replace(/^#/, "").split("?");
  const path = rawPath === "" ? "/" : rawPath;
  const params = new URLSearchParams(query);
  nav(path);
  const session = signedIn();
  if (path === "/signup") return signupPage();
  if (session === undefined || path === "/login") {
    loginPage();
    if (params.get("registered") === "1") {
      document.querySelector("form")?.before(h("p", { class: "outcome ok", role: "status" }, "Your account is ready. Please log in."));
    }
    return;
  }
  const parts = path.split("/").filter((p) => p !== "");
  if (parts[0] === "admin") {
    if (!isAdmin()) return page("Not allowed", h("p", {}, "These pages are for bank staff."));
    switch (parts[1]) {
      case "applications":
        return applicationsPage();
      case "options":
        return optionsPage();
      case "accounts":
        return allAccountsPage();
      case "flagged":
        return flaggedPage();
      case "events":
        return eventsPage();
    }
  }
  if (parts[0] === "accounts" && parts[1] !== undefined) return accountPage(parts[1]);
  if (parts[0] === "transfer") return transferPage(params);
  if (parts[0] === "loans" && parts[1] !== undefined) return loanPage(parts[1]);
  if (parts[0] === "loans") return loansPage();
  if (path === "/" || parts[0] === "accounts") return accountsPage();
  page("Not found", h("p", {}, "There is no such page. ", h("a", { href: "#/accounts" }, "Go to your accounts")));
}

window.addEventListener("hashchange", route);
route();
