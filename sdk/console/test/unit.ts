// Unit tests of the pure parts, run by e2e.mjs with node:test before any
// mesh starts: account-number check digits, money without floats, errors in
// words from gRPC status details.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BankError,
  Code,
  ConnectError,
  ErrorInfoSchema,
  BadRequestSchema,
  accountNumberCheckDigits,
  accountNumberProblem,
  create,
  formatAccountNumber,
  isValidAccountNumber,
  toBankError,
} from "./unit-deps";
import { formatMoney, parseAmount } from "../src/money";

test("account numbers: check digits make the whole number mod 97 == 1", () => {
  for (const body of ["1000000000", "1234567890", "9999999999", "5038292430"]) {
    const number = body + accountNumberCheckDigits(body);
    assert.equal(BigInt(number) % 97n, 1n, number);
    assert.ok(isValidAccountNumber(number), number);
    assert.ok(isValidAccountNumber(formatAccountNumber(number)), "spaces are fine");
    assert.ok(isValidAccountNumber(number.replace(/(\d{4})/g, "$1-")), "hyphens are fine");
  }
});

test("account numbers: every single wrong digit and adjacent swap is caught", () => {
  const number = "1234567890" + accountNumberCheckDigits("1234567890");
  for (let i = 0; i < number.length; i++) {
    for (let d = 0; d <= 9; d++) {
      if (String(d) === number[i]) continue;
      const typo = number.slice(0, i) + d + number.slice(i + 1);
      assert.equal(accountNumberProblem(typo), "check_digits", typo);
    }
    if (i + 1 < number.length && number[i] !== number[i + 1]) {
      const swap = number.slice(0, i) + number[i + 1] + number[i] + number.slice(i + 2);
      assert.equal(accountNumberProblem(swap), "check_digits", swap);
    }
  }
  assert.equal(accountNumberProblem(""), "empty");
  assert.equal(accountNumberProblem("12345"), "length");
  assert.equal(accountNumberProblem("12345678901a"), "characters");
});

test("money: minor units in and out, no floats", () => {
  assert.equal(formatMoney(123456n, "USD"), "USD 1,234.56");
  assert.equal(formatMoney(5n, "EUR"), "EUR 0.05");
  assert.equal(formatMoney(-100n, "USD"), "−USD 1.00");
  assert.equal(formatMoney(1500n, "JPY"), "JPY 1,500");
  assert.equal(formatMoney(9_007_199_254_740_993n, "USD"), "USD 90,071,992,547,409.93");
  assert.equal(parseAmount("12.5", "USD"), 1250n);
  assert.equal(parseAmount("1,000.00", "USD"), 100000n);
  assert.equal(parseAmount(".07", "USD"), 7n);
  assert.equal(parseAmount("0.1", "USD"), 10n);
  assert.equal(parseAmount("90071992547409.93", "USD"), 9_007_199_254_740_993n);
  for (const bad of ["", ".", "0", "0.00", "-1", "1.234", "1e3", "abc", "1.2.3"]) {
    assert.equal(parseAmount(bad, "USD"), undefined, bad);
  }
  assert.equal(parseAmount("1.5", "JPY"), undefined);
});

test("errors: the reason in words, facts beside it", () => {
  const info = create(ErrorInfoSchema, { reason: "INSUFFICIENT_FUNDS", domain: "bank.local", metadata: { transfer_id: "t1" } });
  const connect = new ConnectError("insufficient funds in account", Code.FailedPrecondition, undefined, [{ desc: ErrorInfoSchema, value: info }]);
  const error = toBankError(connect, "req-1");
  assert.ok(error instanceof BankError);
  assert.equal(error.message, "Insufficient funds.");
  assert.equal(error.codeName, "FAILED_PRECONDITION");
  assert.equal(error.reason, "INSUFFICIENT_FUNDS");
  assert.equal(error.metadata["transfer_id"], "t1");
  assert.equal(error.requestId, "req-1");

  const badRequest = create(BadRequestSchema, { fieldViolations: [{ field: "amount.amount_minor", description: "must be positive" }] });
  const invalid = toBankError(new ConnectError("invalid", Code.InvalidArgument, undefined, [{ desc: BadRequestSchema, value: badRequest }]));
  assert.equal(invalid.message, "Amount minor: must be positive.");
  assert.deepEqual(invalid.violations, [{ field: "amount.amount_minor", description: "must be positive" }]);

  assert.equal(toBankError(new ConnectError("boom: sql detail", Code.Internal)).message, "Something went wrong at the bank. Please try again later.");
  assert.equal(toBankError(new TypeError("Failed to fetch")).codeName, "UNKNOWN");
});
