// Member loan pages: apply, choose a financing option, follow applications,
// see a loan's repayment schedule and repay.

import {
  AccountStatus,
  type Application,
  ApplicationStatus,
  type Installment,
  InstallmentStatus,
  LoanStatus,
  ProductType,
} from "@bank/sdk";
import { field, h, replace, select, table } from "./dom";
import { AMOUNT_MAX_MINOR, formatMoney, money, parseAmount } from "./money";
import { RequestKey } from "./request-key";
import { bank, call } from "./session";
import { InputError, actionButton, enumLabel, form, loading, outcome, page, showOk, value, when } from "./ui";

export const PRODUCT_TYPES: [string, string][] = [
  [String(ProductType.PERSONAL), "Personal"],
  [String(ProductType.AUTO), "Auto"],
  [String(ProductType.MORTGAGE), "Mortgage"],
  [String(ProductType.BUSINESS), "Business"],
  [String(ProductType.STUDENT), "Student"],
];

function date(d: { year: number; month: number; day: number } | undefined): string {
  if (d === undefined) return "—";
  return `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

/** Percent from basis points without floats: 599 -> "5.99 %". */
export function rate(bps: number): string {
  return `${Math.trunc(bps / 100)}.${String(bps % 100).padStart(2, "0")} %`;
}

export function scheduleTable(caption: string, installments: Installment[], currency: string): HTMLTableElement {
  return table(
    caption,
    ["#", "Due", "Payment", "Principal", "Interest", "Balance after", "Paid", "Status"],
    installments.map((i) => [
      String(i.number),
      date(i.dueDate),
      h("span", { class: "amount" }, money(i.payment, currency)),
      h("span", { class: "amount" }, money(i.principal, currency)),
      h("span", { class: "amount" }, money(i.interest, currency)),
      h("span", { class: "amount" }, money(i.balanceAfter, currency)),
      h("span", { class: "amount" }, money(i.paid, currency)),
      enumLabel(InstallmentStatus, i.status),
    ]),
    "schedule",
  );
}

export function loansPage(): void {
  const applications = h("div", {});
  const result = outcome();
  const loans = h("div", {});
  const refresh = () => {
    replace(applications, loading(() => call(() => bank.finance.listMyApplications({ pageSize: 50 })), (r) => renderApplications(r.applications, result, refresh)));
    replace(loans, loading(() => call(() => bank.finance.listLoans({ pageSize: 50 })), (r) => {
      if (r.loans.length === 0) return h("p", {}, "No loans yet.");
      return table(
        "Your loans",
        ["Product", "Principal", "Rate", "Outstanding", "Next due", "Status", ""],
        r.loans.map((l) => [
          enumLabel(ProductType, l.productType),
          h("span", { class: "amount" }, money(l.principal)),
          rate(l.annualRateBps),
          h("span", { class: "amount" }, money(l.outstanding)),
          l.status === LoanStatus.ACTIVE ? `${date(l.nextDueDate)}: ${money(l.nextDueAmount)}` : "—",
          enumLabel(LoanStatus, l.status),
          h("a", { href: `#/loans/${l.loanId}` }, "Schedule"),
        ]),
      );
    }));
  };
  page(
    "Loans",
    h("section", { "aria-labelledby": "apps-h" }, h("h2", { id: "apps-h" }, "Your applications"), result, applications),
    h("section", { "aria-labelledby": "loans-h" }, h("h2", { id: "loans-h" }, "Your loans"), loans),
    h("section", { "aria-labelledby": "apply-h" }, h("h2", { id: "apply-h" }, "Apply for a loan"), applyForm(refresh)),
  );
  refresh();
}

function applyForm(refresh: () => void): Node {
  const accountSelect = h("select", { name: "account" });
  const currencies = new Map<string, string>();
  call(() => bank.accounts.listAccounts({ pageSize: 100 })).then((r) => {
    for (const a of r.accounts.filter((x) => x.status === AccountStatus.OPEN)) {
      currencies.set(a.accountId, a.currency);
      accountSelect.appendChild(h("option", { value: a.accountId }, `${a.displayName || a.accountNumber} · ${a.currency}`));
    }
  }, () => undefined);
  const key = new RequestKey();
  return form(
    "Apply for a loan",
    [
      field("Product", select("product", PRODUCT_TYPES)),
      field("Amount", h("input", { name: "amount", inputmode: "decimal", autocomplete: "off", placeholder: "0.00" })),
      field("Term in months", h("input", { name: "term", type: "number", min: 1, max: 480, value: "12" })),
      field("Purpose", h("input", { name: "purpose", maxlength: 500, autocomplete: "off" })),
      field("Pay into account", accountSelect),
    ],
    "Apply",
    async (el) => {
      const accountId = value(el, "account");
      const currency = currencies.get(accountId);
      if (currency === undefined) throw new InputError("Open an account first: the loan is paid into it.");
      const amountMinor = parseAmount(value(el, "amount"), currency);
      if (amountMinor === undefined || amountMinor > AMOUNT_MAX_MINOR) throw new InputError(`Enter a positive amount in ${currency}.`);
      const term = Number(value(el, "term"));
      if (!Number.isInteger(term) || term < 1 || term > 480) throw new InputError("The term is 1 to 480 months.");
      const purpose = value(el, "purpose").trim();
      if (purpose === "") throw new InputError("Say what the loan is for.");
      const request = { productType: Number(value(el, "product")), amount: { amountMinor, currency }, termMonths: term, purpose, disbursementAccountId: accountId };
      await key.run(request, (requestId) => call(() => bank.finance.submitApplication({ ...request, requestId })));
      el.reset();
      refresh();
      return "Application submitted. Choose a financing option for it above.";
    },
  );
}

function renderApplications(applications: Application[], result: HTMLElement, refresh: () => void): Node {
  if (applications.length === 0) return h("p", {}, "No applications yet.");
  return h(
    "ul",
    { class: "cards-list" },
    ...applications.map((a) => {
      const open = a.status === ApplicationStatus.SUBMITTED || a.status === ApplicationStatus.MORE_INFO_REQUESTED;
      const optionLine = h("p", {}, a.selection !== undefined ? `Option: ${a.selection.optionName} at ${rate(a.selection.annualRateBps)}` : "No financing option chosen yet.");
      return h(
        "li",
        { class: "card" },
        h("h3", {}, `${enumLabel(ProductType, a.productType)} loan · ${money(a.amount)} · ${a.termMonths} months`),
        h("p", {}, `Status: ${enumLabel(ApplicationStatus, a.status)}`, a.statusReason !== "" ? ` — ${a.statusReason}` : ""),
        h("p", {}, `Purpose: ${a.purpose}`),
        optionLine,
        open ? optionPicker(a, (text) => (optionLine.textContent = text)) : null,
        a.status === ApplicationStatus.MORE_INFO_REQUESTED
          ? form("Answer the bank", [field("Your answer", h("textarea", { name: "note", maxlength: 2000, rows: 2 }))], "Resubmit", async (el) => {
              await call(() => bank.finance.resubmitApplication({ applicationId: a.applicationId, note: value(el, "note").trim() }));
              refresh();
              return "Resubmitted.";
            })
          : null,
        open
          ? actionButton("Withdraw application", result, async () => {
              await call(() => bank.finance.withdrawApplication({ applicationId: a.applicationId }));
              refresh();
              return "Withdrawn.";
            })
          : null,
      );
    }),
  );
}

/** Lists the options that fit the application; choosing one shows the schedule it would have. */
function optionPicker(a: Application, chosen: (text: string) => void): Node {
  const projected = h("div", {});
  return loading(
    () => call(() => bank.finance.listFinancingOptions({ productType: a.productType, currency: a.amount?.currency ?? "", pageSize: 100 })),
    (r) => {
      if (r.financingOptions.length === 0) return h("p", {}, "No financing option is offered for this product and currency yet.");
      const options: [string, string][] = r.financingOptions.map((o) => [
        o.optionId,
        `${o.name} · ${rate(o.annualRateBps)} · ${o.minTermMonths}–${o.maxTermMonths} months · ${money(o.minAmount)}–${money(o.maxAmount)}`,
      ]);
      const f = form("Choose a financing option", [field("Financing option", select("option", options, a.selection?.optionId))], "Choose option", async (el) => {
        const response = await call(() => bank.finance.selectFinancingOption({ applicationId: a.applicationId, optionId: value(el, "option") }));
        const currency = response.application?.amount?.currency ?? "";
        replace(projected, scheduleTable("Projected repayment schedule", response.projectedSchedule, currency));
        const selection = response.application?.selection;
        if (selection !== undefined) chosen(`Option: ${selection.optionName} at ${rate(selection.annualRateBps)}`);
        return `Option chosen: ${response.application?.selection?.optionName ?? ""}.`;
      });
      return h("div", {}, f, projected);
    },
  );
}

export function loanPage(loanId: string): void {
  const box = h("div", {});
  const result = outcome();
  page("Loan", result, box);
  const render = () =>
    replace(
      box,
      loading(
        () => call(() => bank.finance.getRepaymentSchedule({ loanId })),
        (r) => {
          const loan = r.loan!;
          const currency = loan.principal?.currency ?? "";
          const key = new RequestKey();
          const repay =
            loan.status === LoanStatus.ACTIVE
              ? form(
                  "Repay",
                  [field(`Amount (${currency})`, h("input", { name: "amount", inputmode: "decimal", autocomplete: "off", value: formatMoney(loan.nextDueAmount?.amountMinor ?? 0n, currency).replace(/^[^ ]* /, "").replace(/,/g, "") }))],
                  "Repay",
                  async (el) => {
                    const amountMinor = parseAmount(value(el, "amount"), currency);
                    if (amountMinor === undefined) throw new InputError(`Enter a positive amount in ${currency}.`);
                    const request = { loanId, fromAccountId: loan.disbursementAccountId, amount: { amountMinor, currency } };
                    await key.run(request, (requestId) => call(() => bank.finance.repayLoan({ ...request, requestId })));
                    render();
                    showOk(result, `Repaid ${formatMoney(amountMinor, currency)}.`);
                  },
                )
              : null;
          return h(
            "div",
            {},
            h(
              "dl",
              { class: "balance" },
              h("div", {}, h("dt", {}, "Principal"), h("dd", { class: "amount" }, money(loan.principal))),
              h("div", {}, h("dt", {}, "Rate"), h("dd", {}, rate(loan.annualRateBps))),
              h("div", {}, h("dt", {}, "Outstanding"), h("dd", { class: "amount" }, money(loan.outstanding))),
              h("div", {}, h("dt", {}, "Status"), h("dd", {}, enumLabel(LoanStatus, loan.status))),
            ),
            repay,
            scheduleTable("Repayment schedule", r.installments, currency),
            r.repayments.length > 0
              ? table(
                  "Repayments received",
                  ["Received", "Amount", "Principal", "Interest"],
                  r.repayments.map((p) => [when(p.receiveTime), money(p.amount), money(p.principalPart), money(p.interestPart)]),
                )
              : null,
          );
        },
      ),
    );
  render();
}
