// Idempotency keys (`request_id`) for forms that create things or move money.
//
// A key is reused only to retry the very same request after an answer that
// never came (network failure, timeout, UNAVAILABLE): then the bank replays
// the first outcome and money moves at most once. After any definite answer
// (success, decline, invalid input) or when the user changes the input, the
// next submit gets a fresh key; reusing one for a different request would be
// refused (IDEMPOTENCY_KEY_REUSED), and reusing it after a decline would only
// replay the decline.

import { BankError, Code, newRequestId } from "@bank/sdk";

/** Codes after which the request may or may not have been carried out. */
const UNCERTAIN = new Set<Code>([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Canceled, Code.Aborted, Code.Internal]);

function fingerprint(content: unknown): string {
  return JSON.stringify(content, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

export class RequestKey {
  private id = newRequestId();
  private content: string | undefined;

  /** Sends `content` with its key; `send` gets the request id to put in it. */
  async run<T>(content: unknown, send: (requestId: string) => Promise<T>): Promise<T> {
    const print = fingerprint(content);
    if (print !== this.content) {
      this.id = newRequestId();
      this.content = print;
    }
    try {
      const result = await send(this.id);
      this.content = undefined;
      return result;
    } catch (error) {
      const uncertain = !(error instanceof BankError) || UNCERTAIN.has(error.code);
      if (!uncertain) this.content = undefined;
      throw error;
    }
  }
}
