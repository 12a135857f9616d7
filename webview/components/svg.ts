/** Creating SVG elements from script (no innerHTML: nothing from the data is ever parsed as markup). */

const SVG_NS = "http://www.w3.org/2000/svg";

type Attributes = Readonly<Record<string, string | number>>;

/** An SVG element with attributes and, optionally, text content. */
export function svgElement<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Attributes = {}, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A `<title>` child: the tooltip a mark shows on hover, read by screen readers. */
export function withTitle<T extends SVGElement>(element: T, title: string): T {
  element.appendChild(svgElement("title", {}, title));
  return element;
}
