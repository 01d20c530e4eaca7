// Shared page pieces: the main region, forms that report errors in words,
// and the labels of enum values.

import { BankError, timestampDate, type Timestamp } from "@bank/sdk";
import { h, replace } from "./dom";

/** The page's <main>. */
export function main(): HTMLElement {
  return document.getElementById("main")!;
}

/** Shows a page: a heading (focused, for screen readers) and its content. */
export function page(title: string, ...content: (Node | null)[]): void {
  document.title = `${title} · Bank console`;
  const heading = h("h1", { tabindex: "-1" }, title);
  replace(main(), heading, ...content);
  heading.focus();
}

/** The text for any error: the SDK's sentence for bank errors. */
export function errorText(error: unknown): string {
  if (error instanceof BankError) return error.message;
  if (error instanceof Error && error.message !== "") return error.message;
  return "Something went wrong.";
}

/** A live region for one form's outcome. */
export function outcome(): HTMLParagraphElement {
  return h("p", { class: "outcome", "aria-live": "polite" });
}

export function showError(target: HTMLElement, error: unknown): void {
  target.className = "outcome error";
  target.setAttribute("role", "alert");
  target.textContent = errorText(error);
}

export function showOk(target: HTMLElement, text: string): void {
  target.className = "outcome ok";
  target.setAttribute("role", "status");
  target.textContent = text;
}

/** Thrown by form handlers for input problems found before sending. */
export class InputError extends Error {}

/**
 * A form whose submit runs `handler` once at a time: the button is disabled
 * meanwhile, and an error (from the bank or an InputError) is shown in words.
 * The handler returns the success message, or nothing.
 */
export function form(
  label: string,
  fields: Node[],
  submitText: string,
  handler: (form: HTMLFormElement) => Promise<string | void>,
): HTMLFormElement {
  const result = outcome();
  const button = h("button", { type: "submit" }, submitText);
  const el = h("form", { "aria-label": label, novalidate: true }, ...fields, h("div", { class: "actions" }, button), result);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    el.setAttribute("aria-busy", "true");
    result.textContent = "";
    result.className = "outcome";
    try {
      const message = await handler(el);
      if (typeof message === "string") showOk(result, message);
    } catch (error) {
      showError(result, error);
    } finally {
      button.disabled = false;
      el.removeAttribute("aria-busy");
    }
  });
  return el;
}

/** A value of a named form control. */
export function value(form: HTMLFormElement, name: string): string {
  const control = form.elements.namedItem(name);
  if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement) {
    return control.value;
  }
  return "";
}

/** A button that runs `action`, disabled meanwhile, reporting into `result`. */
export function actionButton(
  text: string,
  result: HTMLElement,
  action: () => Promise<string | void>,
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const button = h("button", { type: "button", ...attrs }, text);
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    button.disabled = true;
    try {
      const message = await action();
      if (typeof message === "string") showOk(result, message);
    } catch (error) {
      showError(result, error);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** A loading placeholder that becomes the content, or the error in words. */
export function loading<T>(load: () => Promise<T>, render: (value: T) => Node): HTMLDivElement {
  const box = h("div", { class: "loading", "aria-busy": "true" }, "Loading…");
  load().then(
    (value) => {
      box.removeAttribute("aria-busy");
      box.className = "";
      replace(box, render(value));
    },
    (error) => {
      box.removeAttribute("aria-busy");
      box.className = "outcome error";
      box.setAttribute("role", "alert");
      box.textContent = errorText(error);
    },
  );
  return box;
}

/** An enum value's name without its prefix, in words: ACCOUNT_TYPE_CHECKING -> "Checking". */
export function enumLabel(enumObject: Record<string | number, string | number>, value: number): string {
  const name = enumObject[value];
  if (typeof name !== "string" || name === "UNSPECIFIED") return "—";
  const words = name.toLowerCase().replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A timestamp as "2026-11-22 14:03 UTC". */
export function when(ts: Timestamp | undefined): string {
  if (ts === undefined) return "—";
  return `${timestampDate(ts).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
