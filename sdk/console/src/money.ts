// Money as integer minor units (bigint) with an ISO-4217 code, as on the
// wire: formatting and parsing never go through floating point.

/** Digits after the decimal point of a currency (ISO 4217 minor unit). */
export function exponent(currency: string): number {
  return ["JPY", "KRW", "ISK", "CLP", "VND"].includes(currency) ? 0 : 2;
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 123456n, "USD" -> "USD 1,234.56". */
export function formatMoney(minor: bigint | undefined, currency: string): string {
  const value = minor ?? 0n;
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  const exp = exponent(currency);
  let text: string;
  if (exp === 0) {
    text = group(digits);
  } else {
    const padded = digits.padStart(exp + 1, "0");
    text = `${group(padded.slice(0, -exp))}.${padded.slice(-exp)}`;
  }
  return `${negative ? "−" : ""}${currency} ${text}`;
}

/** A bank.common.v1.Money (or its absence) in words. */
export function money(m: { amountMinor: bigint; currency: string } | undefined, fallbackCurrency = ""): string {
  return formatMoney(m?.amountMinor ?? 0n, m?.currency || fallbackCurrency);
}

/** "1,234.5" -> 123450n for USD; undefined when it is not a positive amount with at most the currency's decimals. */
export function parseAmount(input: string, currency: string): bigint | undefined {
  const text = input.trim().replace(/[,\s]/g, "");
  const exp = exponent(currency);
  const pattern = exp === 0 ? /^(\d+)$/ : new RegExp(`^(\\d*)(?:\\.(\\d{1,${exp}}))?$`);
  const match = pattern.exec(text);
  if (match === null || text === "" || text === ".") return undefined;
  const whole = match[1] === undefined || match[1] === "" ? "0" : match[1];
  const fraction = (match[2] ?? "").padEnd(exp, "0");
  const minor = BigInt(whole + fraction);
  return minor > 0n ? minor : undefined;
}

/** Largest amount any RPC accepts, in minor units. */
export const AMOUNT_MAX_MINOR = 1_000_000_000_000n;
