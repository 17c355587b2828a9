// @ts-check
// The only way the console builds DOM: text always goes in as text nodes (never innerHTML),
// because the record holds attacker-controlled strings (tool outputs, resource names, intents).

/**
 * @typedef {string | number | Node | null | undefined | false | Child[]} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>} Attrs
 */

/** @param {Element} el @param {Attrs} attrs */
function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') {
      if (!k.startsWith('on')) throw new Error(`handler for ${k}`);
      el.addEventListener(k.slice(2), v);
    } else if (k === 'style' || k.startsWith('on')) {
      // Inline styles and handlers are refused by the CSP anyway; fail loudly in development.
      throw new Error(`attribute ${k} is not allowed`);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

/** @param {Node} el @param {Child[]} children */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    // Anything else is text; an unexpected object shows as its JSON, never as markup.
    else el.appendChild(document.createTextNode(typeof c === 'object' ? JSON.stringify(c) : String(c)));
  }
}

/**
 * An HTML element: h('a', { href: '#/alerts', class: 'x' }, 'text', child).
 * @param {string} tag @param {Attrs} [attrs] @param {Child[]} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * An SVG element (createElementNS).
 * @param {string} tag @param {Attrs} [attrs] @param {Child[]} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** @param {Element} el @param {Child[]} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A short local date-time for an ISO-8601 instant (UTC, as the record stores it). */
export function when(/** @type {string | null | undefined} */ iso) {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

/** An actor of the record: a plain id, or { kind, id } (declared_by, changed_by). */
export function who(/** @type {unknown} */ actor) {
  if (actor && typeof actor === 'object' && 'id' in actor) {
    const a = /** @type {{ id: unknown, kind?: unknown }} */ (actor);
    return a.kind ? `${a.id} (${a.kind})` : String(a.id);
  }
  return actor === undefined || actor === null ? '?' : String(actor);
}

/** A hash route for a task, its id encoded (ids may hold any character). */
export const taskHref = (/** @type {string} */ task) => `#/tasks/${encodeURIComponent(task)}`;
export const agentHref = (/** @type {string} */ agent) => `#/agents/${encodeURIComponent(agent)}`;
