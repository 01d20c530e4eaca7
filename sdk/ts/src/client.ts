// The bank's client over grpc-web: one transport to the gateway, a typed
// client per public service, the bearer token and an `x-request-id` on every
// call, and errors turned into BankError (words for people, facts for
// programs). Works in browsers and in Node 18+ (global fetch).

import { type Client, type Interceptor, type Transport, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { AccountService } from "./gen/bank/account/v1/account_pb.js";
import { AnalyticsService } from "./gen/bank/analytics/v1/analytics_pb.js";
import { AuthService } from "./gen/bank/auth/v1/auth_pb.js";
import { FinanceService } from "./gen/bank/finance/v1/finance_pb.js";
import { TransferService } from "./gen/bank/transfer/v1/transfer_pb.js";
import { toBankError } from "./errors.js";
import { newRequestId } from "./ids.js";

/** Header carrying the request id; the gateway echoes it and logs it. */
export const REQUEST_ID_HEADER = "x-request-id";

/** Default deadline of a unary call, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** How to reach the bank. */
export interface BankClientOptions {
  /** The gateway, e.g. "http://127.0.0.1:8080"; in a page served by the gateway, `location.origin`. */
  baseUrl: string;
  /**
   * The access token sent as `authorization: Bearer <token>`: a string, or a
   * function asked before every call (so a refreshed token is picked up).
   * Calls without a token are sent without the header (SignUp, Login, ...).
   */
  token?: string | (() => string | undefined);
  /** Makes the `x-request-id` of each call; default: a random UUID. */
  requestId?: () => string;
  /** Deadline of unary calls in milliseconds (streams have none); default 15 s. */
  timeoutMs?: number;
  /** fetch to use (tests, credentials); default the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Interceptors of the underlying grpc-web transport (they see the headers the SDK set). */
  interceptors?: Interceptor[];
}

/** One typed client per public service of the mesh. */
export interface BankClient {
  readonly auth: Client<typeof AuthService>;
  readonly accounts: Client<typeof AccountService>;
  readonly transfers: Client<typeof TransferService>;
  readonly finance: Client<typeof FinanceService>;
  readonly analytics: Client<typeof AnalyticsService>;
  /** Replaces the token (undefined: send none). Overrides a `token` function. */
  setToken(token: string | undefined): void;
}

/** The call's headers with `authorization` and `x-request-id` added unless already set. */
function withHeaders(init: HeadersInit | undefined, token: string | undefined, requestId: () => string): Headers {
  const header = new Headers(init);
  if (token !== undefined && token !== "" && !header.has("authorization")) {
    header.set("authorization", `Bearer ${token}`);
  }
  if (!header.has(REQUEST_ID_HEADER)) {
    header.set(REQUEST_ID_HEADER, requestId());
  }
  return header;
}

/** The messages of a stream, with a failure in the middle turned into a BankError. */
async function* bankErrors<T>(messages: AsyncIterable<T>, requestId: string | undefined): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toBankError(error, requestId);
  }
}

/** A client of the bank's gateway over grpc-web (binary). */
export function createBankClient(options: BankClientOptions): BankClient {
  let override: { token: string | undefined } | undefined;
  const configured = options.token;
  const token = (): string | undefined => {
    if (override !== undefined) return override.token;
    return typeof configured === "function" ? configured() : configured;
  };
  const grpcWeb = createGrpcWebTransport({
    baseUrl: options.baseUrl,
    useBinaryFormat: true,
    interceptors: options.interceptors ?? [],
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
  const requestId = options.requestId ?? newRequestId;
  // Headers and error mapping wrap the transport, outside connect's own
  // error handling (which would turn a BankError back into a ConnectError).
  // The default deadline is for unary calls only: a server stream such as
  // WatchEvents runs until it is cancelled.
  const unaryTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport: Transport = {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const headers = withHeaders(header, token(), requestId);
      const id = headers.get(REQUEST_ID_HEADER) ?? undefined;
      try {
        return await grpcWeb.unary(method, signal, timeoutMs ?? unaryTimeoutMs, headers, input, contextValues);
      } catch (error) {
        throw toBankError(error, id);
      }
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      const headers = withHeaders(header, token(), requestId);
      const id = headers.get(REQUEST_ID_HEADER) ?? undefined;
      try {
        const response = await grpcWeb.stream(method, signal, timeoutMs, headers, input, contextValues);
        return { ...response, message: bankErrors(response.message, id) };
      } catch (error) {
        throw toBankError(error, id);
      }
    },
  };
  return {
    auth: createClient(AuthService, transport),
    accounts: createClient(AccountService, transport),
    transfers: createClient(TransferService, transport),
    finance: createClient(FinanceService, transport),
    analytics: createClient(AnalyticsService, transport),
    setToken(value) {
      override = { token: value };
    },
  };
}
