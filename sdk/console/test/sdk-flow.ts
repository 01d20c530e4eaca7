// The TypeScript SDK's member flow, bundled for and run inside headless
// Chromium on the gateway's origin (grpc-web over fetch, as a browser app
// would): sign up, log in, open two accounts, deposit, transfer by account
// number, read the balance, export the statement (a server stream), and get
// a decline back as a BankError in words. Returns what it saw; e2e.mjs checks.

import { AccountType, BankError, createBankClient, newRequestId } from "@bank/sdk";

export interface FlowResult {
  accountNumber: string;
  available: string;
  exportKinds: string[];
  exportEntryCount: string;
  trailerClosing: string;
  declineMessage: string;
  declineReason: string;
  declineCode: string;
  declineHasTransferId: boolean;
  violations: string[];
}

export async function run(baseUrl: string): Promise<FlowResult> {
  const bank = createBankClient({ baseUrl });
  const email = `sdk-${newRequestId().slice(0, 8)}@example.com`;
  const password = "correct horse battery staple 9";
  await bank.auth.signUp({ email, password });
  const login = await bank.auth.login({ email, password });
  bank.setToken(login.tokens?.accessToken);

  const open = async (type: AccountType) => {
    const response = await bank.accounts.openAccount({ requestId: newRequestId(), type, currency: "USD", displayName: "sdk" });
    return response.account!;
  };
  const checking = await open(AccountType.CHECKING);
  const savings = await open(AccountType.SAVINGS);
  const usd = (amountMinor: bigint) => ({ amountMinor, currency: "USD" });
  await bank.transfers.deposit({ requestId: newRequestId(), accountId: checking.accountId, amount: usd(10_000n) });
  await bank.transfers.createTransfer({
    requestId: newRequestId(),
    fromAccountId: checking.accountId,
    destination: { case: "toAccountNumber", value: savings.accountNumber },
    amount: usd(2_550n),
    description: "to savings",
  });
  const balance = await bank.transfers.getBalance({ accountId: checking.accountId });

  const exportKinds: string[] = [];
  let exportEntryCount = "";
  let trailerClosing = "";
  for await (const message of bank.accounts.exportStatement({ accountId: checking.accountId })) {
    exportKinds.push(message.item.case ?? "none");
    if (message.item.case === "header") exportEntryCount = String(message.item.value.entryCount);
    if (message.item.case === "trailer") trailerClosing = String(message.item.value.closingBalance?.amountMinor);
  }

  let declineMessage = "";
  let declineReason = "";
  let declineCode = "";
  let declineHasTransferId = false;
  try {
    await bank.transfers.withdraw({ requestId: newRequestId(), accountId: checking.accountId, amount: usd(1_000_000n) });
  } catch (error) {
    if (!(error instanceof BankError)) throw error;
    declineMessage = error.message;
    declineReason = error.reason;
    declineCode = error.codeName;
    declineHasTransferId = (error.metadata["transfer_id"] ?? "") !== "";
  }

  let violations: string[] = [];
  try {
    await bank.auth.signUp({ email: "not-an-email", password: "short" });
  } catch (error) {
    if (!(error instanceof BankError)) throw error;
    violations = error.violations.map((v) => v.field);
  }

  return {
    accountNumber: checking.accountNumber,
    available: String(balance.balance?.available?.amountMinor),
    exportKinds,
    exportEntryCount,
    trailerClosing,
    declineMessage,
    declineReason,
    declineCode,
    declineHasTransferId,
    violations,
  };
}
