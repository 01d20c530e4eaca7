// A few lines of DOM building instead of a framework: elements are created
// with textContent (never innerHTML), so server data cannot inject markup.

type Child = Node | string | number | bigint | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** Creates an element: attributes (`on*` are listeners, booleans toggle), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

let nextId = 0;
/** A unique id for label/input pairs. */
export function uid(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled form field; `hint` is linked with aria-describedby. */
export function field(
  label: string,
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLDivElement {
  if (input.id === "") input.id = uid("f");
  const hintEl = hint !== undefined ? h("p", { class: "hint", id: `${input.id}-hint` }, hint) : null;
  if (hintEl !== null) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hintEl);
}

/** A select with (value, label) options. */
export function select(name: string, options: [string, string][], selected?: string): HTMLSelectElement {
  const el = h("select", { name });
  for (const [value, label] of options) {
    el.appendChild(h("option", { value, selected: value === selected }, label));
  }
  return el;
}

/** A table with a caption, header cells and rows. */
export function table(caption: string, headers: string[], rows: Child[][], className = ""): HTMLTableElement {
  return h(
    "table",
    { class: className },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell) => h("td", {}, cell))))),
  );
}
