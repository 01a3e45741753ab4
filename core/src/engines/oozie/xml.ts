import { XMLBuilder } from "fast-xml-parser";
import { EngineError } from "../../errors.js";

/**
 * XML documents for Oozie (workflow.xml, Hadoop configuration files) are built as element
 * trees and serialised by fast-xml-parser's builder, so structure never comes from user
 * strings. User strings only ever become text or attribute values, escaped here.
 */

export interface XmlElement {
  name: string;
  attributes?: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

/** `el("arg", "x")`, `el("start", { to: "job" })`, `el("action", { name: "a" }, child1, child2)`. */
export function el(name: string, ...rest: (XmlNode | Record<string, string> | undefined | false)[]): XmlElement {
  let attributes: Record<string, string> | undefined;
  const children: XmlNode[] = [];
  rest.forEach((item, index) => {
    if (item === undefined || item === false) return;
    if (typeof item === "string" || isElement(item)) children.push(item);
    else if (index === 0) attributes = item;
    else throw new Error(`el(${name}): attributes must come first`);
  });
  return { name, attributes, children };
}

function isElement(value: unknown): value is XmlElement {
  return typeof value === "object" && value !== null && "name" in value && "children" in value;
}

/**
 * XML 1.0 cannot carry these characters at all, not even as character references
 * (NUL, most C0 controls, lone surrogates, U+FFFE/U+FFFF).
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function findNonXmlCharacter(value: string): string | undefined {
  const match = NOT_XML_CHAR.exec(value);
  if (!match) return undefined;
  const code = match[0].codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Text escaping. `&`, `<` and `>` make markup inert; CR is written as a character reference
 * because XML parsers turn a literal CR (and CRLF) into LF, which would change the user's value.
 */
function escapeText(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

/** Attribute values also normalise TAB and LF to spaces unless written as references. */
function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;");
}

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  suppressEmptyNode: true,
  format: true,
  indentBy: "  ",
  // Escaping is done by the two processors above (the builder's own does not keep CRs).
  processEntities: false,
  tagValueProcessor: (_name, value) => escapeText(String(value)),
  attributeValueProcessor: (_name, value) => escapeAttribute(String(value)),
});

type Ordered = Record<string, unknown>;

function toOrdered(node: XmlNode): Ordered {
  if (typeof node === "string") {
    const bad = findNonXmlCharacter(node);
    if (bad) throw new EngineError(`A value contains the character ${bad}, which XML cannot carry`);
    return { "#text": node };
  }
  const ordered: Ordered = { [node.name]: node.children.map(toOrdered) };
  if (node.attributes && Object.keys(node.attributes).length > 0) {
    const attributes: Record<string, string> = {};
    for (const [key, value] of Object.entries(node.attributes)) {
      const bad = findNonXmlCharacter(value);
      if (bad) throw new EngineError(`A value contains the character ${bad}, which XML cannot carry`);
      attributes[`@_${key}`] = value;
    }
    ordered[":@"] = attributes;
  }
  return ordered;
}

/** Serialises a document with an XML declaration. */
export function renderXml(root: XmlElement): string {
  const declaration = { "?xml": [], ":@": { "@_version": "1.0", "@_encoding": "UTF-8" } };
  return `${builder.build([declaration, toOrdered(root)]).trim()}\n`;
}

/** A Hadoop `<configuration>` document (job properties, job-xml files). */
export function hadoopConfiguration(properties: Iterable<readonly [string, string]>): XmlElement {
  return el("configuration", ...[...properties].map(([name, value]) => el("property", el("name", name), el("value", value))));
}
