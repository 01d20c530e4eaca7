// Member pages: accounts and balances, one account (deposit, withdraw,
// transfers, statement with a balance chart, cards) and transfers.

import {
  type Account,
  AccountStatus,
  AccountType,
  CardBlockReason,
  CardStatus,
  DeclineReason,
  EntryDirection,
  TransferKind,
  TransferStatus,
  accountNumberProblem,
  accountNumberProblemText,
  formatAccountNumber,
  normalizeAccountNumber,
  timestampDate,
} from "@bank/sdk";
import { type Point, lineChart } from "./charts";
import { field, h, replace, select, table } from "./dom";
import { AMOUNT_MAX_MINOR, formatMoney, money, parseAmount } from "./money";
import { RequestKey } from "./request-key";
import { bank, call } from "./session";
import { InputError, actionButton, enumLabel, form, loading, outcome, page, value, when } from "./ui";

/** Accounts a member can open, in this order. */
const CURRENCIES = ["USD", "EUR"];

async function myAccounts(): Promise<Account[]> {
  const response = await call(() => bank.accounts.listAccounts({ pageSize: 100 }));
  return response.accounts;
}

function accountName(a: Account): string {
  const type = enumLabel(AccountType, a.type);
  return a.displayName !== "" ? `${a.displayName} (${type})` : type;
}

/** An amount from a form field, or an InputError in words. */
function amountFrom(input: string, currency: string): bigint {
  const minor = parseAmount(input, currency);
  if (minor === undefined) throw new InputError(`Enter a positive amount in ${currency}, e.g. 12.50.`);
  if (minor > AMOUNT_MAX_MINOR) throw new InputError("The amount is too large.");
  return minor;
}

export function accountsPage(): void {
  const list = h("div", {});
  const refresh = () => replace(list, loading(myAccounts, renderAccounts));
  const key = new RequestKey();
  const open = form(
    "Open an account",
    [
      field("Type", select("type", [[String(AccountType.CHECKING), "Checking"], [String(AccountType.SAVINGS), "Savings"]])),
      field("Currency", select("currency", CURRENCIES.map((c) => [c, c]))),
      field("Nickname (optional)", h("input", { name: "name", maxlength: 64, autocomplete: "off" })),
    ],
    "Open account",
    async (el) => {
      const request = { type: Number(value(el, "type")), currency: value(el, "currency"), displayName: value(el, "name").trim() };
      const response = await key.run(request, (requestId) => call(() => bank.accounts.openAccount({ ...request, requestId })));
      el.reset();
      refresh();
      return `Opened account ${formatAccountNumber(response.account?.accountNumber ?? "")}.`;
    },
  );
  page("Your accounts", list, h("section", { "aria-labelledby": "open-h" }, h("h2", { id: "open-h" }, "Open an account"), open));
  refresh();
}

function renderAccounts(accounts: Account[]): Node {
  if (accounts.length === 0) return h("p", {}, "You have no accounts yet. Open one below.");
  const rows = accounts.map((a) => {
    const balance = h("span", { class: "amount" }, "…");
    call(() => bank.transfers.getBalance({ accountId: a.accountId })).then(
      (r) => (balance.textContent = money(r.balance?.available, a.currency)),
      () => (balance.textContent = "unavailable"),
    );
    return [
      h("a", { href: `#/accounts/${a.accountId}` }, accountName(a)),
      h("span", { class: "mono" }, formatAccountNumber(a.accountNumber)),
      a.currency,
      enumLabel(AccountStatus, a.status),
      balance,
    ];
  });
  return table("Your accounts and available balances", ["Account", "Number", "Currency", "Status", "Available"], rows, "accounts");
}

export function accountPage(accountId: string): void {
  const body = h("div", {});
  page("Account", body);
  replace(
    body,
    loading(
      () => call(() => bank.accounts.getAccount({ accountId })),
      (r) => {
        const a = r.account!;
        const heading = document.querySelector("h1");
        if (heading !== null) heading.textContent = `${accountName(a)} · ${formatAccountNumber(a.accountNumber)}`;
        return accountDetail(a);
      },
    ),
  );
}

function accountDetail(a: Account): Node {
  const balanceBox = h("div", { "aria-live": "polite" });
  const transfersBox = h("div", {});
  const refresh = () => {
    replace(
      balanceBox,
      loading(
        () => call(() => bank.transfers.getBalance({ accountId: a.accountId })),
        (r) =>
          h(
            "dl",
            { class: "balance" },
            h("div", {}, h("dt", {}, "Available"), h("dd", { class: "amount", "data-testid": "available" }, money(r.balance?.available, a.currency))),
            h("div", {}, h("dt", {}, "Posted"), h("dd", { class: "amount" }, money(r.balance?.posted, a.currency))),
            h("div", {}, h("dt", {}, "Reserved"), h("dd", { class: "amount" }, money(r.balance?.pendingDebits, a.currency))),
          ),
      ),
    );
    replace(transfersBox, recentTransfers(a));
  };
  refresh();
  const status =
    a.status !== AccountStatus.OPEN
      ? h("p", { class: "notice" }, `This account is ${enumLabel(AccountStatus, a.status).toLowerCase()}.`, a.statusReason !== "" ? ` Reason: ${a.statusReason}` : "")
      : null;
  return h(
    "div",
    {},
    status,
    h("section", { "aria-labelledby": "bal-h" }, h("h2", { id: "bal-h" }, "Balance"), balanceBox),
    h("section", { "aria-labelledby": "cash-h", class: "split" }, h("h2", { id: "cash-h" }, "Cash"), cashForm(a, "deposit", refresh), cashForm(a, "withdraw", refresh)),
    h("section", { "aria-labelledby": "tr-h" }, h("h2", { id: "tr-h" }, "Recent transfers"), transfersBox, h("p", {}, h("a", { href: `#/transfer?from=${a.accountId}` }, "Send money from this account"))),
    h("section", { "aria-labelledby": "st-h" }, h("h2", { id: "st-h" }, "Statement"), statement(a)),
    h("section", { "aria-labelledby": "cards-h" }, h("h2", { id: "cards-h" }, "Cards"), cards(a)),
  );
}

function cashForm(a: Account, kind: "deposit" | "withdraw", refresh: () => void): HTMLFormElement {
  const key = new RequestKey();
  const label = kind === "deposit" ? "Deposit cash" : "Withdraw cash";
  return form(
    label,
    [field(`${label} (${a.currency})`, h("input", { name: "amount", inputmode: "decimal", autocomplete: "off", placeholder: "0.00" }))],
    kind === "deposit" ? "Deposit" : "Withdraw",
    async (el) => {
      const amountMinor = amountFrom(value(el, "amount"), a.currency);
      const request = { accountId: a.accountId, amount: { amountMinor, currency: a.currency } };
      await key.run<unknown>(request, (requestId) =>
        kind === "deposit" ? call(() => bank.transfers.deposit({ ...request, requestId })) : call(() => bank.transfers.withdraw({ ...request, requestId })),
      );
      el.reset();
      refresh();
      return `${kind === "deposit" ? "Deposited" : "Withdrew"} ${formatMoney(amountMinor, a.currency)}.`;
    },
  );
}

function recentTransfers(a: Account): Node {
  return loading(
    () => call(() => bank.transfers.listTransfers({ accountId: a.accountId, pageSize: 20 })),
    (r) => {
      if (r.transfers.length === 0) return h("p", {}, "No transfers yet.");
      const rows = r.transfers.map((t) => {
        const incoming = t.creditAccountId === a.accountId;
        const amount = money(t.amount, a.currency);
        return [
          when(t.createTime),
          enumLabel(TransferKind, t.kind),
          h("span", { class: incoming ? "amount credit" : "amount debit" }, incoming ? `+${amount}` : `−${amount}`),
          t.status === TransferStatus.DECLINED ? `Declined: ${enumLabel(DeclineReason, t.declineReason)}` : enumLabel(TransferStatus, t.status),
          t.description,
        ];
      });
      return table("The 20 newest transfers", ["Time", "Kind", "Amount", "Status", "Description"], rows);
    },
  );
}

function statement(a: Account): Node {
  const now = new Date();
  const month = h("input", {
    type: "month",
    name: "month",
    value: `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`,
    max: `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`,
  });
  const box = h("div", {});
  const show = () => {
    const [year, m] = month.value.split("-").map(Number);
    if (!year || !m) return;
    replace(
      box,
      loading(
        () => call(() => bank.accounts.getStatement({ accountId: a.accountId, period: { year, month: m } })),
        (r) => {
          const s = r.statement!;
          const points: Point[] = [];
          if (s.startTime !== undefined) points.push({ time: timestampDate(s.startTime).getTime(), value: s.openingBalance?.amountMinor ?? 0n });
          for (const e of s.entries) {
            if (e.postTime !== undefined) points.push({ time: timestampDate(e.postTime).getTime(), value: e.balanceAfter?.amountMinor ?? 0n });
          }
          if (s.endTime !== undefined) points.push({ time: timestampDate(s.endTime).getTime(), value: s.closingBalance?.amountMinor ?? 0n });
          const fmt = (v: bigint) => formatMoney(v, s.currency);
          const rows = s.entries.map((e) => [
            String(e.sequence),
            when(e.postTime),
            enumLabel(TransferKind, e.kind),
            h("span", { class: e.direction === EntryDirection.CREDIT ? "amount credit" : "amount debit" }, `${e.direction === EntryDirection.CREDIT ? "+" : "−"}${money(e.amount, s.currency)}`),
            h("span", { class: "amount" }, money(e.balanceAfter, s.currency)),
            e.description,
          ]);
          return h(
            "div",
            {},
            h(
              "dl",
              { class: "balance" },
              h("div", {}, h("dt", {}, "Opening"), h("dd", { class: "amount" }, money(s.openingBalance, s.currency))),
              h("div", {}, h("dt", {}, "Money in"), h("dd", { class: "amount" }, money(s.totalCredits, s.currency))),
              h("div", {}, h("dt", {}, "Money out"), h("dd", { class: "amount" }, money(s.totalDebits, s.currency))),
              h("div", {}, h("dt", {}, "Closing"), h("dd", { class: "amount" }, money(s.closingBalance, s.currency))),
            ),
            lineChart(`Balance during ${month.value}: from ${fmt(s.openingBalance?.amountMinor ?? 0n)} to ${fmt(s.closingBalance?.amountMinor ?? 0n)}`, points, fmt),
            s.entries.length === 0
              ? h("p", {}, "No entries this month.")
              : table(`Entries of ${month.value}${s.entriesTruncated ? " (first 5,000)" : ""}`, ["#", "Posted", "Kind", "Amount", "Balance after", "Description"], rows),
          );
        },
      ),
    );
  };
  month.addEventListener("change", show);
  show();
  return h("div", {}, field("Month", month), box);
}

function cards(a: Account): Node {
  const box = h("div", {});
  const result = outcome();
  const refresh = () =>
    replace(
      box,
      loading(
        () => call(() => bank.accounts.listCards({ accountId: a.accountId })),
        (r) => {
          if (r.cards.length === 0) return h("p", {}, "No cards on this account.");
          const rows = r.cards.map((c) => [
            h("span", { class: "mono" }, `•••• ${c.lastFour}`),
            c.cardholderName,
            `${String(c.expiryMonth).padStart(2, "0")}/${c.expiryYear}`,
            c.status === CardStatus.BLOCKED ? `Blocked (${enumLabel(CardBlockReason, c.blockReason).toLowerCase()})` : enumLabel(CardStatus, c.status),
            c.status === CardStatus.ACTIVE
              ? actionButton(
                  "Block (lost)",
                  result,
                  async () => {
                    await call(() => bank.accounts.blockCard({ accountId: a.accountId, cardId: c.cardId, reason: CardBlockReason.LOST }));
                    refresh();
                    return `Card ending ${c.lastFour} is blocked.`;
                  },
                  { "aria-label": `Block card ending ${c.lastFour} as lost` },
                )
              : "",
          ]);
          return table("Cards", ["Card", "Name", "Expires", "Status", ""], rows);
        },
      ),
    );
  refresh();
  const key = new RequestKey();
  const secret = h("div", { "aria-live": "polite" });
  const issue = form(
    "Issue a card",
    [field("Name on card (optional)", h("input", { name: "holder", maxlength: 26, autocomplete: "cc-name" }), "Letters, spaces, . ' and -; empty uses your profile name.")],
    "Issue card",
    async (el) => {
      const request = { accountId: a.accountId, cardholderName: value(el, "holder").trim().toUpperCase() };
      const response = await key.run(request, (requestId) => call(() => bank.accounts.issueCard({ ...request, requestId })));
      el.reset();
      refresh();
      // Shown once, never stored: the bank will not show them again.
      replace(
        secret,
        h(
          "div",
          { class: "notice" },
          h("p", {}, "Your card number and security code are shown only now:"),
          h("p", { class: "mono" }, response.pan.replace(/(\d{4})(?=\d)/g, "$1 "), " · CVV ", response.cvv),
        ),
      );
      return "Card issued.";
    },
  );
  return h("div", {}, box, result, issue, secret);
}

export function transferPage(params: URLSearchParams): void {
  const fromSelect = h("select", { name: "from" });
  const number = h("input", { name: "to", inputmode: "numeric", autocomplete: "off", placeholder: "1234 5678 9012", maxlength: 20 });
  const numberHint = h("p", { class: "hint", id: "to-hint", "aria-live": "polite" }, "12 digits; spaces are fine.");
  number.setAttribute("aria-describedby", "to-hint");
  // Tell about a typo as soon as all digits are in, before anything is sent.
  number.addEventListener("input", () => {
    const digits = normalizeAccountNumber(number.value);
    const problem = digits.length >= 12 ? accountNumberProblem(number.value) : undefined;
    number.setAttribute("aria-invalid", problem !== undefined ? "true" : "false");
    numberHint.textContent = problem !== undefined ? accountNumberProblemText(problem) : "12 digits; spaces are fine.";
    numberHint.className = problem !== undefined ? "hint error" : "hint";
  });
  const accounts = new Map<string, Account>();
  const key = new RequestKey();
  const f = form(
    "Send money",
    [
      field("From", fromSelect),
      h("div", { class: "field" }, h("label", { for: "to-number" }, "To account number"), Object.assign(number, { id: "to-number" }), numberHint),
      field("Amount", h("input", { name: "amount", inputmode: "decimal", autocomplete: "off", placeholder: "0.00" })),
      field("Description (optional)", h("input", { name: "description", maxlength: 140, autocomplete: "off" })),
    ],
    "Send",
    async (el) => {
      const from = accounts.get(value(el, "from"));
      if (from === undefined) throw new InputError("Choose the account to send from.");
      const problem = accountNumberProblem(value(el, "to"));
      if (problem !== undefined) {
        number.setAttribute("aria-invalid", "true");
        number.focus();
        throw new InputError(accountNumberProblemText(problem));
      }
      const to = normalizeAccountNumber(value(el, "to"));
      if (to === from.accountNumber) throw new InputError("Choose a different account to send to.");
      const amountMinor = amountFrom(value(el, "amount"), from.currency);
      const request = {
        fromAccountId: from.accountId,
        destination: { case: "toAccountNumber" as const, value: to },
        amount: { amountMinor, currency: from.currency },
        description: value(el, "description").trim(),
      };
      const response = await key.run(request, (requestId) => call(() => bank.transfers.createTransfer({ ...request, requestId })));
      el.reset();
      number.setAttribute("aria-invalid", "false");
      void loadFrom();
      return `Sent ${money(response.transfer?.amount, from.currency)} to ${formatAccountNumber(to)}.`;
    },
  );
  const loadFrom = async () => {
    const list = (await myAccounts()).filter((a) => a.status === AccountStatus.OPEN);
    const keep = fromSelect.value || params.get("from") || "";
    fromSelect.replaceChildren();
    for (const a of list) {
      accounts.set(a.accountId, a);
      const option = h("option", { value: a.accountId, selected: a.accountId === keep }, `${accountName(a)} · ${formatAccountNumber(a.accountNumber)} · ${a.currency}`);
      fromSelect.appendChild(option);
      call(() => bank.transfers.getBalance({ accountId: a.accountId })).then(
        (r) => (option.textContent = `${accountName(a)} · ${formatAccountNumber(a.accountNumber)} · ${money(r.balance?.available, a.currency)} available`),
        () => undefined,
      );
    }
  };
  page("Send money", f);
  loadFrom().catch(() => undefined);
}
