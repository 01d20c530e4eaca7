// Request ids: `x-request-id` for tracing every call, and the `request_id`
// idempotency keys of creating and money-moving RPCs. Version-4 UUIDs from
// crypto.getRandomValues, which (unlike crypto.randomUUID) also exists on
// pages that are not a secure context.

/** A random UUID (version 4) in canonical text form. */
export function newRequestId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
