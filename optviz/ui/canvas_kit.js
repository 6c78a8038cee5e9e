// Shared by optviz's canvas components (optviz/ui/components.py puts this before their own JS).

// Bytes packed by optviz/packing.py's `encode` (base64).
function decodeBytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

// A float32 array packed the same way (little-endian).
function decodeFloat32(text) {
  return new Float32Array(decodeBytes(text).buffer);
}

// A round tick spacing (1, 2 or 5 times a power of ten) giving about `count` ticks over `span`.
function niceStep(span, count) {
  const raw = span / Math.max(count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  return power * ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10);
}

// An optimizer's marker (OptimizerSpec.marker, Plotly's symbol names) of radius r centred on (x, y),
// as the context's path: a circle, or a regular polygon with a vertex pointing where its name says.
const MARKER_POLYGONS = {
  square: [4, 45], diamond: [4, 90], pentagon: [5, 90], hexagon: [6, 0],
  "triangle-up": [3, 90], "triangle-down": [3, -90], "triangle-left": [3, 180], "triangle-right": [3, 0],
};
function markerPath(context, marker, x, y, r) {
  context.beginPath();
  const polygon = MARKER_POLYGONS[marker];
  if (!polygon) {
    context.arc(x, y, r, 0, 2 * Math.PI);
    return;
  }
  const [sides, degrees] = polygon;
  const size = sides === 3 ? r * 1.3 : sides === 4 ? r * 1.15 : r * 1.05; // about the circle's area
  for (let i = 0; i < sides; i++) {
    const angle = ((degrees + (360 * i) / sides) * Math.PI) / 180;
    context[i ? "lineTo" : "moveTo"](x + size * Math.cos(angle), y - size * Math.sin(angle));
  }
  context.closePath();
}

// Whether a keydown inside a chart belongs to the focused control rather than to the chart's own
// shortcuts: Tab reaches Play, the speed list and the checkboxes, and Space or Enter on Play presses
// it once (the chart toggling too would undo the press). The step scrubber takes the chart's keys,
// so it steps as the chart does.
function controlKeepsKey(event) {
  const target = event.target;
  if (target.tagName === "SELECT") return true;
  const pressable = target.tagName === "BUTTON" || (target.tagName === "INPUT" && target.type === "checkbox");
  return pressable && (event.key === " " || event.key === "Enter");
}

// Size `canvas` to `width` x `height` CSS px at the screen's pixel ratio (sharp on a HiDPI screen);
// returns its 2D context drawing in CSS px, cleared.
function fitCanvas(canvas, width, height) {
  const scale = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * scale) || canvas.height !== Math.round(height * scale)) {
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    canvas.style.height = `${height}px`;
  }
  const context = canvas.getContext("2d");
  context.setTransform(scale, 0, 0, scale, 0, 0);
  context.clearRect(0, 0, width, height);
  return context;
}

// The component's default export for a drawing class: one drawing per parent element, made on the
// first call and updated on every later one (Streamlit calls the component's function per update,
// with {data, parentElement, setStateValue}), so the canvas, the step and the play state survive a
// change. Streamlit calls the returned cleanup when the element goes away for good.
const drawings = new WeakMap(); // parent element -> its drawing
function mountOnce(component, Drawing) {
  const { data, parentElement, setStateValue } = component;
  let drawing = drawings.get(parentElement);
  if (!drawing) {
    drawing = new Drawing(parentElement);
    drawings.set(parentElement, drawing);
  }
  drawing.update(data, setStateValue);
  return () => {
    drawing.destroy();
    drawings.delete(parentElement);
  };
}
