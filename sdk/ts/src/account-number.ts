// Account numbers: 12 digits whose last two are ISO 7064 MOD 97-10 check
// digits (the IBAN scheme), so the whole number mod 97 == 1. Checking them
// before sending catches every single mistyped digit and every swap of two
// adjacent digits without a round trip (the server checks again).

/** Digits of an account number. */
export const ACCOUNT_NUMBER_DIGITS = 12;

/** Why an input is not an account number; undefined when it is one. */
export type AccountNumberProblem = "empty" | "characters" | "length" | "check_digits";

/** The input without the spaces and hyphens people type between digits. */
export function normalizeAccountNumber(input: string): string {
  return input.replace(/[\s-]/g, "");
}

/** The remainder of a decimal string modulo 97, digit by digit (no precision loss). */
function mod97(digits: string): number {
  let rest = 0;
  for (const ch of digits) {
    rest = (rest * 10 + (ch.charCodeAt(0) - 48)) % 97;
  }
  return rest;
}

/** The two check digits for a 10-digit body: 98 - (body * 100 mod 97). */
export function accountNumberCheckDigits(body: string): string {
  if (!/^\d{10}$/.test(body)) throw new RangeError("an account number body is 10 digits");
  return String(98 - mod97(`${body}00`)).padStart(2, "0");
}

/** What is wrong with `input` as an account number, or undefined. */
export function accountNumberProblem(input: string): AccountNumberProblem | undefined {
  const digits = normalizeAccountNumber(input);
  if (digits === "") return "empty";
  if (!/^\d+$/.test(digits)) return "characters";
  if (digits.length !== ACCOUNT_NUMBER_DIGITS) return "length";
  if (mod97(digits) !== 1) return "check_digits";
  return undefined;
}

/** Whether `input` is a well-formed account number with valid check digits. */
export function isValidAccountNumber(input: string): boolean {
  return accountNumberProblem(input) === undefined;
}

/** A sentence for an account number problem. */
export function accountNumberProblemText(problem: AccountNumberProblem): string {
  switch (problem) {
    case "empty":
      return "Enter the account number.";
    case "characters":
      return "An account number has digits only (spaces and hyphens are fine).";
    case "length":
      return `An account number has ${ACCOUNT_NUMBER_DIGITS} digits.`;
    case "check_digits":
      return "This account number is not valid: its check digits do not match. Please check for a typo.";
  }
}

/** "123456789012" as "1234 5678 9012" for reading. */
export function formatAccountNumber(digits: string): string {
  return normalizeAccountNumber(digits).replace(/(\d{4})(?=\d)/g, "$1 ");
}
