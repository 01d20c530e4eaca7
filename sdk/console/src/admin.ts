// Admin pages: the application work queue (approve, reject, ask for more),
// financing options, every account (freeze, unfreeze), flagged transfers, and
// the live event feed from AnalyticsService.WatchEvents with charts of
// transfer volume.

import {
  type Account,
  AccountStatus,
  AccountType,
  type Application,
  ApplicationStatus,
  BankError,
  Code,
  Decision,
  type Event,
  EventType,
  FraudRule,
  ProductType,
  ReviewOutcome,
  ReviewStatus,
  TransferKind,
  formatAccountNumber,
  newRequestId,
  timestampDate,
} from "@bank/sdk";
import { type Bar, barChart } from "./charts";
import { field, h, replace, select, table } from "./dom";
import { formatMoney, money, parseAmount } from "./money";
import { PRODUCT_TYPES, rate } from "./loans";
import { RequestKey } from "./request-key";
import { bank, call } from "./session";
import { InputError, actionButton, enumLabel, errorText, form, loading, outcome, page, value, when } from "./ui";

export function applicationsPage(): void {
  const queue = h("div", {});
  const result = outcome();
  const refresh = () =>
    replace(
      queue,
      loading(
        () =>
          call(() =>
            bank.finance.listAllApplications({
              pageSize: 100,
              statuses: [ApplicationStatus.SUBMITTED, ApplicationStatus.MORE_INFO_REQUESTED],
            }),
          ),
        (r) => renderQueue(r.applications, result, refresh),
      ),
    );
  page("Loan applications", h("p", {}, "Open applications, oldest first."), result, queue);
  refresh();
}

function renderQueue(applications: Application[], result: HTMLElement, refresh: () => void): Node {
  if (applications.length === 0) return h("p", {}, "No applications are waiting.");
  return h(
    "ul",
    { class: "cards-list" },
    ...applications.map((a) => {
      const reason = h("input", { name: "reason", maxlength: 500, autocomplete: "off" });
      const decide = (decision: Decision, verb: string) => async () => {
        const text = reason.value.trim();
        if (decision !== Decision.APPROVE && text === "") throw new InputError("Give a reason: the applicant sees it.");
        const response = await call(() =>
          bank.finance.decideApplication({ requestId: newRequestId(), applicationId: a.applicationId, decision, reason: text }),
        );
        refresh();
        return `${verb}: now ${enumLabel(ApplicationStatus, response.application?.status ?? 0).toLowerCase()}${response.loan !== undefined ? `, loan of ${money(response.loan.principal)} paid out` : ""}.`;
      };
      const label = `${enumLabel(ProductType, a.productType)} loan of ${money(a.amount)}`;
      return h(
        "li",
        { class: "card", "data-application": a.applicationId },
        h("h2", {}, `${label} · ${a.termMonths} months`),
        h("p", {}, `Applicant ${a.applicantUserId} · submitted ${when(a.submitTime)} · ${enumLabel(ApplicationStatus, a.status)}`),
        h("p", {}, `Purpose: ${a.purpose}`),
        h("p", {}, a.selection !== undefined ? `Option: ${a.selection.optionName} at ${rate(a.selection.annualRateBps)}` : "No financing option chosen yet (needed to approve)."),
        field("Reason (required to reject or ask for more)", reason),
        h(
          "div",
          { class: "actions" },
          actionButton("Approve", result, decide(Decision.APPROVE, "Approved"), { "aria-label": `Approve ${label}` }),
          actionButton("Reject", result, decide(Decision.REJECT, "Rejected"), { "aria-label": `Reject ${label}`, class: "danger" }),
          actionButton("Ask for more information", result, decide(Decision.REQUEST_INFO, "Asked"), { "aria-label": `Ask for more about ${label}` }),
        ),
      );
    }),
  );
}

export function optionsPage(): void {
  const list = h("div", {});
  const result = outcome();
  const refresh = () =>
    replace(
      list,
      loading(
        () => call(() => bank.finance.listFinancingOptions({ pageSize: 100, includeInactive: true })),
        (r) => {
          if (r.financingOptions.length === 0) return h("p", {}, "No financing options yet: members cannot complete an application without one.");
          return table(
              "Financing options",
              ["Name", "Product", "Rate", "Term", "Amount", "Active", ""],
              r.financingOptions.map((o) => [
                o.name,
                enumLabel(ProductType, o.productType),
                rate(o.annualRateBps),
                `${o.minTermMonths}–${o.maxTermMonths} months`,
                `${money(o.minAmount)} – ${money(o.maxAmount)}`,
                o.active ? "Yes" : "No",
                actionButton(o.active ? "Deactivate" : "Activate", result, async () => {
                  await call(() =>
                    bank.finance.updateFinancingOption({ financingOption: { ...o, active: !o.active }, updateMask: { paths: ["active"] } }),
                  );
                  refresh();
                  return `${o.name} is now ${o.active ? "inactive" : "active"}.`;
                }),
              ]),
          );
        },
      ),
    );
  const key = new RequestKey();
  const create = form(
    "New financing option",
    [
      field("Name", h("input", { name: "name", maxlength: 100, autocomplete: "off" })),
      field("Product", select("product", PRODUCT_TYPES)),
      field("Currency", select("currency", [["USD", "USD"], ["EUR", "EUR"]])),
      field("Annual rate (basis points, 599 = 5.99 %)", h("input", { name: "bps", type: "number", min: 0, max: 10000, value: "599" })),
      field("Shortest term (months)", h("input", { name: "minTerm", type: "number", min: 1, max: 480, value: "6" })),
      field("Longest term (months)", h("input", { name: "maxTerm", type: "number", min: 1, max: 480, value: "60" })),
      field("Smallest amount", h("input", { name: "minAmount", inputmode: "decimal", value: "100.00" })),
      field("Largest amount", h("input", { name: "maxAmount", inputmode: "decimal", value: "50000.00" })),
    ],
    "Create option",
    async (el) => {
      const currency = value(el, "currency");
      const minAmount = parseAmount(value(el, "minAmount"), currency);
      const maxAmount = parseAmount(value(el, "maxAmount"), currency);
      if (minAmount === undefined || maxAmount === undefined) throw new InputError(`Enter the amounts in ${currency}, e.g. 100.00.`);
      const name = value(el, "name").trim();
      if (name === "") throw new InputError("Give the option a name.");
      const financingOption = {
        name,
        productType: Number(value(el, "product")),
        currency,
        annualRateBps: Number(value(el, "bps")),
        minTermMonths: Number(value(el, "minTerm")),
        maxTermMonths: Number(value(el, "maxTerm")),
        minAmount: { amountMinor: minAmount, currency },
        maxAmount: { amountMinor: maxAmount, currency },
      };
      await key.run(financingOption, (requestId) => call(() => bank.finance.createFinancingOption({ requestId, financingOption })));
      refresh();
      return `Created ${name}.`;
    },
  );
  page("Financing options", result, list, h("section", { "aria-labelledby": "new-opt" }, h("h2", { id: "new-opt" }, "New option"), create));
  refresh();
}

export function allAccountsPage(): void {
  const list = h("div", {});
  const number = h("input", { name: "number", inputmode: "numeric", autocomplete: "off" });
  const result = outcome();
  const statusFilter = select("status", [["", "Any status"], [String(AccountStatus.OPEN), "Open"], [String(AccountStatus.FROZEN), "Frozen"], [String(AccountStatus.CLOSED), "Closed"]]);
  const refresh = () =>
    replace(
      list,
      loading(
        () =>
          call(() =>
            bank.accounts.listAllAccounts({
              pageSize: 100,
              accountNumber: number.value.replace(/[\s-]/g, ""),
              statuses: statusFilter.value === "" ? [] : [Number(statusFilter.value)],
              types: [AccountType.CHECKING, AccountType.SAVINGS],
            }),
          ),
        (r) => renderAllAccounts(r.accounts, result, refresh),
      ),
    );
  const filters = h("form", { "aria-label": "Filter accounts", class: "inline" }, field("Account number", number), field("Status", statusFilter), h("button", { type: "submit" }, "Filter"));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  page("All accounts", filters, result, list);
  refresh();
}

function renderAllAccounts(accounts: Account[], result: HTMLElement, refresh: () => void): Node {
  if (accounts.length === 0) return h("p", {}, "No accounts match.");
  const rows = accounts.map((a) => {
    const balance = h("span", { class: "amount" }, "…");
    call(() => bank.transfers.getBalance({ accountId: a.accountId })).then(
      (r) => (balance.textContent = money(r.balance?.posted, a.currency)),
      () => (balance.textContent = "unavailable"),
    );
    const number = formatAccountNumber(a.accountNumber);
    let action: Node = h("span", {}, "");
    if (a.status === AccountStatus.OPEN) {
      action = actionButton("Freeze", result, async () => {
        await call(() => bank.accounts.freezeAccount({ accountId: a.accountId, reason: "Frozen by an administrator in the console" }));
        refresh();
        return `Account ${number} is frozen.`;
      }, { "aria-label": `Freeze account ${number}`, class: "danger" });
    } else if (a.status === AccountStatus.FROZEN) {
      action = actionButton("Unfreeze", result, async () => {
        await call(() => bank.accounts.unfreezeAccount({ accountId: a.accountId, reason: "Unfrozen by an administrator in the console" }));
        refresh();
        return `Account ${number} is open again.`;
      }, { "aria-label": `Unfreeze account ${number}` });
    }
    return [h("span", { class: "mono" }, number), enumLabel(AccountType, a.type), a.currency, enumLabel(AccountStatus, a.status), balance, h("span", { class: "mono small" }, a.ownerUserId), when(a.openTime), action];
  });
  return h("div", {}, table("Accounts, newest first", ["Number", "Type", "Currency", "Status", "Posted balance", "Owner", "Opened", ""], rows));
}

export function flaggedPage(): void {
  const list = h("div", {});
  const result = outcome();
  const refresh = () =>
    replace(
      list,
      loading(
        () => call(() => bank.analytics.listFlaggedTransfers({ pageSize: 100 })),
        (r) => {
          if (r.flaggedTransfers.length === 0) return h("p", {}, "No flagged transfers.");
          const rows = r.flaggedTransfers.map((f) => {
            const review =
              f.reviewStatus === ReviewStatus.OPEN
                ? h(
                    "div",
                    { class: "actions" },
                    actionButton("Legitimate", result, async () => {
                      await call(() => bank.analytics.reviewFlaggedTransfer({ flagId: f.flagId, outcome: ReviewOutcome.FALSE_POSITIVE, note: "Reviewed in the console: legitimate" }));
                      refresh();
                      return "Marked legitimate.";
                    }),
                    actionButton("Fraud", result, async () => {
                      await call(() => bank.analytics.reviewFlaggedTransfer({ flagId: f.flagId, outcome: ReviewOutcome.CONFIRMED_FRAUD, note: "Reviewed in the console: confirmed fraud" }));
                      refresh();
                      return "Marked as fraud. Freeze the account under All accounts if needed.";
                    }, { class: "danger" }),
                  )
                : enumLabel(ReviewOutcome, f.reviewOutcome);
            return [when(f.flagTime), enumLabel(FraudRule, f.rule), f.detail, h("span", { class: "amount" }, money(f.amount)), h("span", { class: "mono small" }, f.debitAccountId), review];
          });
          return h("div", {}, table("Flagged transfers, newest first", ["Flagged", "Rule", "Detail", "Amount", "From ledger account", "Review"], rows));
        },
      ),
    );
  page("Flagged transfers", result, list);
  refresh();
}

/** Events kept on the feed page; older ones drop off. */
const FEED_MAX = 200;
/** Minutes shown in the live volume chart. */
const LIVE_MINUTES = 30;
/** Reconnect attempts of the feed before giving up, and the longest wait. */
const RECONNECT_MAX = 10;
const RECONNECT_WAIT_MAX_MS = 30_000;

let stopFeed: (() => void) | undefined;

/** Leaving the events page ends its stream. */
export function leaveEvents(): void {
  stopFeed?.();
  stopFeed = undefined;
}

function eventSummary(e: Event): string {
  const p = e.payload;
  switch (p.case) {
    case "transferPosted":
      return `Transfer posted: ${money(p.value.amount)} (${enumLabel(TransferKind, p.value.kind).toLowerCase()})`;
    case "transferDeclined":
      return `Transfer declined: ${money(p.value.amount)}`;
    case "accountOpened":
      return `Account opened (${p.value.currency})`;
    case "applicationSubmitted":
      return "Loan application submitted";
    case "applicationDecided":
      return "Loan application decided";
    case "loanDisbursed":
      return "Loan paid out";
    default:
      return enumLabel(EventType, e.type);
  }
}

export function eventsPage(): void {
  leaveEvents();
  const state = h("p", { class: "outcome", role: "status" }, "Connecting…");
  const feed = h("ol", { class: "feed", "aria-label": "Events, newest first" });
  const live = h("div", {});
  const daily = h("div", {});
  // Posted transfer volume per minute and currency, from the stream.
  const perMinute = new Map<string, Map<number, bigint>>();
  let currency = "USD";
  const currencySelect = select("currency", [["USD", "USD"], ["EUR", "EUR"]], currency);
  const drawLive = () => {
    const now = Math.floor(Date.now() / 60_000);
    const buckets = perMinute.get(currency) ?? new Map<number, bigint>();
    const bars: Bar[] = [];
    for (let m = now - LIVE_MINUTES + 1; m <= now; m++) {
      bars.push({ label: new Date(m * 60_000).toISOString().slice(11, 16), value: buckets.get(m) ?? 0n });
    }
    replace(live, barChart(`Posted ${currency} transfer volume per minute, last ${LIVE_MINUTES} minutes`, bars, (v) => formatMoney(v, currency)));
  };
  const drawDaily = () => {
    const end = new Date();
    const start = new Date(end.getTime() - 13 * 86_400_000);
    const d = (x: Date) => ({ year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: x.getUTCDate() });
    replace(
      daily,
      loading(
        () => call(() => bank.analytics.getSummary({ startDate: d(start), endDate: d(end) })),
        (r) => {
          const bars: Bar[] = r.transfersByDay
            .filter((row) => row.currency === currency)
            .map((row) => ({ label: `${row.date?.month}-${row.date?.day}`, value: row.volume?.amountMinor ?? 0n }));
          return h(
            "div",
            {},
            barChart(`Posted ${currency} transfer volume per day, last 14 days`, bars, (v) => formatMoney(v, currency)),
            h("p", { class: "hint" }, `${r.totalUsers} users, ${r.totalLogins} log-ins in the range; data as of ${when(r.dataAsOf)}.`),
          );
        },
      ),
    );
  };
  currencySelect.addEventListener("change", () => {
    currency = currencySelect.value;
    drawLive();
    drawDaily();
  });
  const add = (e: Event) => {
    if (e.payload.case === "transferPosted" && e.occurTime !== undefined) {
      const amount = e.payload.value.amount;
      if (amount !== undefined) {
        const minute = Math.floor(timestampDate(e.occurTime).getTime() / 60_000);
        const buckets = perMinute.get(amount.currency) ?? new Map<number, bigint>();
        buckets.set(minute, (buckets.get(minute) ?? 0n) + amount.amountMinor);
        perMinute.set(amount.currency, buckets);
      }
    }
    feed.prepend(h("li", { "data-type": EventType[e.type] ?? "" }, h("time", {}, when(e.occurTime)), " ", h("span", {}, eventSummary(e)), e.actorUserId !== "" ? h("span", { class: "small" }, ` · by ${e.actorUserId}`) : ""));
    while (feed.childElementCount > FEED_MAX) feed.lastElementChild?.remove();
  };
  const controller = new AbortController();
  stopFeed = () => controller.abort();
  const tick = setInterval(drawLive, 15_000);
  controller.signal.addEventListener("abort", () => clearInterval(tick));
  void (async () => {
    let attempts = 0;
    let replay = 100;
    while (!controller.signal.aborted && attempts < RECONNECT_MAX) {
      try {
        state.textContent = attempts === 0 ? "Connecting…" : `Reconnecting (attempt ${attempts + 1})…`;
        const stream = bank.analytics.watchEvents({ replayLast: replay }, { signal: controller.signal });
        state.textContent = "Live: waiting for events.";
        for await (const message of stream) {
          attempts = 0;
          if (message.item.case === "event") {
            add(message.item.value);
            drawLive();
            state.textContent = `Live: last event ${when(message.item.value.occurTime)}.`;
          } else if (message.item.case === "heartbeat") {
            state.textContent = `Live: quiet since ${new Date().toISOString().slice(11, 19)} UTC.`;
          }
        }
        replay = 0;
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof BankError && (error.code === Code.PermissionDenied || error.code === Code.Unauthenticated || error.code === Code.InvalidArgument)) {
          state.className = "outcome error";
          state.textContent = errorText(error);
          return;
        }
        replay = 0;
        state.textContent = `The feed was interrupted: ${errorText(error)}`;
      }
      attempts += 1;
      const wait = Math.min(RECONNECT_WAIT_MAX_MS, 500 * 2 ** attempts);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    if (!controller.signal.aborted) {
      state.className = "outcome error";
      state.textContent = "The feed stopped after repeated failures. Reload the page to try again.";
    }
  })();
  page(
    "Live events",
    field("Currency of the charts", currencySelect),
    h(
      "section",
      { "aria-labelledby": "vol-h" },
      h("h2", { id: "vol-h" }, "Transfer volume"),
      h("h3", {}, `Per minute, last ${LIVE_MINUTES} minutes (live)`),
      live,
      h("h3", {}, "Per day, last 14 days"),
      daily,
    ),
    h("section", { "aria-labelledby": "feed-h" }, h("h2", { id: "feed-h" }, "Event feed"), state, feed),
  );
  drawLive();
  drawDaily();
}
