// Errors of the bank mesh, in words.
//
// Every service reports errors as a gRPC status with google.rpc details in
// `grpc-status-details-bin` (ErrorInfo with domain "bank.local" and a reason
// unique across services, BadRequest field violations, RetryInfo). This
// module turns any error a call throws into a BankError whose `message` is a
// sentence a user can read ("Insufficient funds."), and keeps the machine
// facts (code, reason, metadata, violations) beside it.

import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";

/** The domain of every bank ErrorInfo. */
export const ERROR_DOMAIN = "bank.local";

/** One invalid field of a request, from google.rpc.BadRequest. */
export interface FieldViolation {
  /** Path of the field, e.g. "amount.amount_minor" or "transfers[2].amount". */
  field: string;
  /** What is wrong with it, in words. */
  description: string;
}

/** Sentences for the ErrorInfo reasons a user can meet. */
const REASON_TEXT: Record<string, string> = {
  // Auth
  INVALID_CREDENTIALS: "Wrong email or password.",
  EMAIL_TAKEN: "An account with this email already exists.",
  LOGIN_THROTTLED: "Too many log-in attempts. Please wait before trying again.",
  SESSION_REVOKED: "Your session has ended. Please log in again.",
  REFRESH_TOKEN_INVALID: "Your session has expired. Please log in again.",
  REFRESH_TOKEN_REUSED: "Your session was ended for safety. Please log in again.",
  LAST_ADMIN: "The last administrator cannot lose the admin role.",
  USER_NOT_FOUND: "User not found.",
  // Accounts and cards
  ACCOUNT_NOT_FOUND: "Account not found.",
  INVALID_CHECK_DIGIT: "This account number is not valid: its check digits do not match. Please check for a typo.",
  UNSUPPORTED_CURRENCY: "This currency is not supported.",
  ACCOUNT_LIMIT_REACHED: "You have reached the maximum number of accounts.",
  LOOKUP_RATE_LIMITED: "Too many account look-ups. Please wait before trying again.",
  ACCOUNT_TYPE_NOT_ELIGIBLE: "This type of account is not eligible.",
  SYSTEM_ACCOUNT: "System accounts cannot be changed.",
  BALANCE_NOT_ZERO: "The account can only be closed at a zero balance.",
  PENDING_TRANSFERS_OPEN: "The account still has pending transfers.",
  NOT_ACCOUNT_OWNER: "Only the account's owner can do this.",
  CARD_NOT_FOUND: "Card not found.",
  CARD_ALREADY_ISSUED: "This account already has an active card. Block it to get a new one.",
  CARD_INVALID: "The card details are not valid.",
  CARD_BLOCKED: "This card is blocked.",
  CARD_EXPIRED: "This card has expired.",
  CARD_ATTEMPTS_EXCEEDED: "Too many failed card attempts. Please wait before trying again.",
  // Ledger
  INSUFFICIENT_FUNDS: "Insufficient funds.",
  ACCOUNT_FROZEN: "The account is frozen.",
  ACCOUNT_CLOSED: "The account is closed.",
  BALANCE_OVERFLOW: "The amount is too large for the account's balance.",
  CURRENCY_MISMATCH: "The currency does not match the account's currency.",
  SAME_ACCOUNT: "The source and destination accounts must differ.",
  TRANSFER_NOT_FOUND: "Transfer not found.",
  PENDING_TRANSFER_POSTED: "This pending transfer was already posted.",
  PENDING_TRANSFER_VOIDED: "This pending transfer was already voided.",
  PENDING_TRANSFER_EXPIRED: "This pending transfer has expired.",
  IDEMPOTENCY_KEY_REUSED: "This request was already made with different details. Please start again.",
  // Finance
  APPLICATION_NOT_FOUND: "Application not found.",
  LOAN_NOT_FOUND: "Loan not found.",
  FINANCING_OPTION_NOT_FOUND: "Financing option not found.",
  FINANCING_OPTION_NOT_SELECTED: "A financing option must be selected before approval.",
  ILLEGAL_STATUS_TRANSITION: "This application cannot be changed that way in its current state.",
  APPLICATION_FINAL: "This application is already decided.",
  TOO_MANY_OPEN_APPLICATIONS: "You have too many open applications.",
  OPTION_INACTIVE: "This financing option is no longer offered.",
  PRODUCT_TYPE_MISMATCH: "This financing option is for a different kind of loan.",
  AMOUNT_OUT_OF_RANGE: "The amount is outside this option's range.",
  TERM_OUT_OF_RANGE: "The term is outside this option's range.",
  SCHEDULE_NOT_REPRESENTABLE: "No repayment schedule is possible for this amount, term and rate.",
  SELF_DECISION: "Administrators cannot decide their own applications.",
  OVERPAYMENT: "The amount is more than what is outstanding.",
  LOAN_PAID_OFF: "This loan is already paid off.",
  ACCOUNT_NOT_OPEN: "The account is not open.",
  // Analytics
  FLAG_NOT_FOUND: "Flag not found.",
  FLAG_ALREADY_REVIEWED: "This flag was already reviewed differently.",
};

/** Sentences for status codes without a known reason. */
const CODE_TEXT: Partial<Record<Code, string>> = {
  [Code.Canceled]: "The request was cancelled.",
  [Code.Unknown]: "Something went wrong.",
  [Code.InvalidArgument]: "Some of the input is not valid.",
  [Code.DeadlineExceeded]: "The bank took too long to answer. Please try again.",
  [Code.NotFound]: "Not found.",
  [Code.AlreadyExists]: "This already exists.",
  [Code.PermissionDenied]: "You are not allowed to do this.",
  [Code.ResourceExhausted]: "Too many requests. Please wait before trying again.",
  [Code.FailedPrecondition]: "This cannot be done in the current state.",
  [Code.Aborted]: "The request was interrupted. Please try again.",
  [Code.OutOfRange]: "A value is out of range.",
  [Code.Unimplemented]: "This is not available yet.",
  [Code.Internal]: "Something went wrong at the bank. Please try again later.",
  [Code.Unavailable]: "The bank cannot be reached right now. Please try again.",
  [Code.DataLoss]: "Something went wrong at the bank. Please try again later.",
  [Code.Unauthenticated]: "Please log in.",
};

/** gRPC code names as on the wire (google/rpc/code.proto). */
const CODE_NAMES: Record<number, string> = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

/** The sentence for an ErrorInfo reason, if the SDK knows one. */
export function reasonText(reason: string): string | undefined {
  return REASON_TEXT[reason];
}

/** Turns "amount.amount_minor" into "amount minor". */
function fieldWords(field: string): string {
  const last = field.split(".").filter((part) => part !== "").pop() ?? field;
  return last.replace(/\[\d+\]/g, "").replace(/_/g, " ");
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return trimmed;
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * An error from the bank: `message` is a sentence for people; the rest is
 * for programs.
 */
export class BankError extends Error {
  override readonly name = "BankError";
  /** The gRPC status code (numeric, as in @connectrpc/connect's Code). */
  readonly code: Code;
  /** The code's wire name, e.g. "FAILED_PRECONDITION". */
  readonly codeName: string;
  /** ErrorInfo.reason, e.g. "INSUFFICIENT_FUNDS"; empty when none was sent. */
  readonly reason: string;
  /** ErrorInfo.metadata (e.g. "transfer_id" of a recorded decline). */
  readonly metadata: Readonly<Record<string, string>>;
  /** BadRequest field violations, in the order the server listed them. */
  readonly violations: readonly FieldViolation[];
  /** RetryInfo.retry_delay in milliseconds, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  /** The server's own message (grpc-message), for logs. */
  readonly serverMessage: string;
  /** The x-request-id of the call, when known. */
  readonly requestId: string | undefined;

  constructor(init: {
    code: Code;
    reason?: string;
    metadata?: Record<string, string>;
    violations?: FieldViolation[];
    retryAfterMs?: number;
    serverMessage?: string;
    requestId?: string;
    cause?: unknown;
  }) {
    const reason = init.reason ?? "";
    const violations = init.violations ?? [];
    const serverMessage = init.serverMessage ?? "";
    super(describe(init.code, reason, violations, serverMessage, init.retryAfterMs), { cause: init.cause });
    this.code = init.code;
    this.codeName = CODE_NAMES[init.code] ?? String(init.code);
    this.reason = reason;
    this.metadata = init.metadata ?? {};
    this.violations = violations;
    this.retryAfterMs = init.retryAfterMs;
    this.serverMessage = serverMessage;
    this.requestId = init.requestId;
  }
}

function describe(
  code: Code,
  reason: string,
  violations: readonly FieldViolation[],
  serverMessage: string,
  retryAfterMs: number | undefined,
): string {
  let text: string;
  const known = reason !== "" ? REASON_TEXT[reason] : undefined;
  if (known !== undefined) {
    text = known;
  } else if (violations.length > 0) {
    text = violations.map((v) => sentence(`${fieldWords(v.field)}: ${v.description}`)).join(" ");
  } else if (serverMessage !== "" && code !== Code.Internal && code !== Code.Unknown) {
    // Services write their messages for people; internal ones may leak detail.
    text = sentence(serverMessage);
  } else {
    text = CODE_TEXT[code] ?? "Something went wrong.";
  }
  if (retryAfterMs !== undefined && retryAfterMs > 0) {
    text += ` Try again in ${Math.ceil(retryAfterMs / 1000)} s.`;
  }
  return text;
}

function durationMs(duration: { seconds: bigint; nanos: number } | undefined): number | undefined {
  if (duration === undefined) return undefined;
  return Number(duration.seconds) * 1000 + Math.floor(duration.nanos / 1_000_000);
}

/**
 * Any error thrown by a bank call (a ConnectError, a network TypeError, an
 * abort) as a BankError. A BankError is returned unchanged.
 */
export function toBankError(error: unknown, requestId?: string): BankError {
  if (error instanceof BankError) return error;
  const connect = ConnectError.from(error);
  let reason = "";
  let metadata: Record<string, string> = {};
  for (const info of connect.findDetails(ErrorInfoSchema)) {
    if (info.domain === ERROR_DOMAIN || reason === "") {
      reason = info.reason;
      metadata = { ...info.metadata };
    }
  }
  const violations: FieldViolation[] = [];
  for (const badRequest of connect.findDetails(BadRequestSchema)) {
    for (const v of badRequest.fieldViolations) {
      violations.push({ field: v.field, description: v.description });
    }
  }
  let retryAfterMs: number | undefined;
  for (const retry of connect.findDetails(RetryInfoSchema)) {
    retryAfterMs = durationMs(retry.retryDelay);
  }
  const id = requestId ?? connect.metadata.get("x-request-id") ?? undefined;
  return new BankError({
    code: connect.code,
    reason,
    metadata,
    violations,
    retryAfterMs,
    serverMessage: connect.rawMessage,
    requestId: id,
    cause: error,
  });
}
