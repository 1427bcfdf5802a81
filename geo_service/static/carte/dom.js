// The one way the map pages build HTML: elements made here, every text set as text. A name a person typed (a
// project, an organisation, a place) can never become markup, whatever it holds ("<script>", "<img onerror>").
// No module writes innerHTML; the only HTML string any of them makes is htmlText's, for the one Leaflet API that
// takes nothing else (the names of the layer list).

// An element with attributes and children. Attributes: null, undefined and false leave it out, true sets it empty,
// "text" is the element's text. Children: strings and numbers become text nodes, arrays are flattened, null,
// undefined and false are skipped.
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

// The node's children replaced by these, read as el reads them
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(typeof child === "object" ? child : String(child)); // a string is appended as text
  }
}

// An SVG element with attributes and children (other SVG elements)
export function svgElement(tag, attributes, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

// An inline SVG icon drawn with strokes (its colour from CSS), hidden from screen readers: the button says it.
export function strokeIcon(paths) {
  return svgElement("svg", {viewBox: "0 0 24 24", "aria-hidden": "true"}, paths.map((d) => svgElement("path", {d})));
}

// A text as HTML that shows it as it is: only for Leaflet's layer list, whose names Leaflet writes as HTML.
export function htmlText(text) {
  const span = document.createElement("span");
  span.textContent = text == null ? "" : String(text);
  return span.innerHTML;
}
