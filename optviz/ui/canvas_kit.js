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
