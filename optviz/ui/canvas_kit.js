// Shared by optviz's canvas components (optviz/ui/components.py puts this before their own JS).

// Bytes packed by optviz/packing.py's `encode` (base64).
function decodeBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
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

// In a slide (the page is in an iframe, `?embed=true`): calls onShown(true/false) when the slide
// holding `root` is shown or hidden. Hidden: the deck posts "slide:stop" into the iframe of a slide
// that is left ("slide:start" when it is shown; reveal.js and optviz's lecture stage do); for other
// decks, `root` out of the deck's view (a slide moved off-screen or a scene waiting beside the
// stage); or the browser tab hidden. A page of its own is always shown: returns null and never calls.
// Otherwise returns the function that stops watching.
function watchSlide(root, onShown) {
  if (window.parent === window) return null;
  const seen = { deck: true, inView: true, tab: !document.hidden };
  const changed = () => onShown(seen.deck && seen.inView && seen.tab);
  const onMessage = (event) => {
    if (event.source !== window.parent || !["slide:start", "slide:stop"].includes(event.data)) return;
    seen.deck = event.data === "slide:start";
    changed();
  };
  const onVisibility = () => {
    seen.tab = !document.hidden;
    changed();
  };
  window.addEventListener("message", onMessage);
  document.addEventListener("visibilitychange", onVisibility);
  const observer = new IntersectionObserver(([entry]) => {
    seen.inView = entry.isIntersecting;
    changed();
  });
  observer.observe(root);
  return () => {
    observer.disconnect();
    window.removeEventListener("message", onMessage);
    document.removeEventListener("visibilitychange", onVisibility);
  };
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

// --- the convolution charts (conv_steps, conv_backward_steps) -----------------------------------

// Grid values as short labels, as the page's Python figures write them: two significant digits,
// and anything smaller than 0.01 in size as 0.
function cellLabel(value) {
  return Math.abs(value) >= 0.01 ? String(Number(value.toPrecision(2))) : "0";
}

// A k x k grid of numbers (row by row) in the square `box` ({x, y, size}), each at most its cell's
// width (narrowed if need be: "0.016" beside "0.41" never runs into it); `font(px)` gives the font.
function drawNumberGrid(context, box, k, values, font) {
  const cell = box.size / k;
  context.strokeStyle = "#999";
  context.lineWidth = 1;
  context.fillStyle = "#262730";
  context.font = font(Math.max(11, Math.min(16, cell * 0.42)));
  context.textAlign = "center";
  context.textBaseline = "middle";
  for (let u = 0; u < k; u++) {
    for (let v = 0; v < k; v++) {
      context.strokeRect(box.x + v * cell + 0.5, box.y + u * cell + 0.5, cell, cell);
      context.fillText(cellLabel(values[u * k + v]), box.x + (v + 0.5) * cell, box.y + (u + 0.5) * cell, cell - 4);
    }
  }
}

// On a picture of the padded input drawn at `box` ({x, y}) with square cells of `cell` px: a dashed
// line where the image ends and the zero padding begins (inner: [top, left, rows, cols] of the
// image; shape: the padded [rows, cols]), if there is padding.
function drawPaddingEdge(context, box, cell, inner, shape) {
  const [top, left, rows, cols] = inner;
  if (rows === shape[0] && cols === shape[1]) return;
  context.save();
  context.setLineDash([6, 4]);
  context.strokeStyle = "#56B4E9";
  context.lineWidth = 2;
  context.strokeRect(box.x + left * cell, box.y + top * cell, cols * cell, rows * cell);
  context.restore();
}

// The kernel's window on such a picture: its outline (`span` cells square from the first tap) and,
// unless dots is false (the cells must show through), a dot on each tap ([row, column] of each
// kernel cell), in `colour`.
function drawWindow(context, box, cell, taps, span, colour, lineWidth, dots = true) {
  const [r0, c0] = taps[0];
  context.strokeStyle = colour;
  context.lineWidth = lineWidth;
  context.strokeRect(box.x + c0 * cell, box.y + r0 * cell, span * cell, span * cell);
  if (!dots) return;
  context.fillStyle = colour;
  const radius = Math.max(1.5, Math.min(3, cell / 4));
  for (const [r, c] of taps) {
    context.beginPath();
    context.arc(box.x + (c + 0.5) * cell, box.y + (r + 0.5) * cell, radius, 0, 2 * Math.PI);
    context.fill();
  }
}

// A chart that shows one of `steps` steps at a time (the convolution charts): ▶ Play advances a step
// every data.frameMs and stops at the last, the scrubber, Space, the arrow keys (Shift: ten steps),
// Home and End move it; data.autoplay plays it when it is first drawn and, in a slide, each time the
// slide is shown (watchSlide); hidden, it pauses at data.openStep. The root element carries
// data-step and data-playing for tests.
//
// Its element (the component's HTML) is .optviz-steps around a canvas (__canvas), Play (__play), the
// scrubber (__scrubber) and the step's words (__cell), styled by canvas_kit.css. A subclass calls
// super(parent), sets its `data` and calls showData(...) in update(), names the step under the pointer
// in cellAt(event), and draws in draw(), ending with showStep().
class StepChart {
  constructor(parent) {
    const root = parent.querySelector(".optviz-steps");
    const part = (name) => root.querySelector(`.optviz-steps__${name}`);
    this.root = root;
    this.playButton = part("play");
    this.scrubber = part("scrubber");
    this.canvas = part("canvas");
    this.cellLabel = part("cell");
    this.revision = 0;
    this.data = null;
    this.step = null; // the data's openStep, on the first update
    this.steps = 0;
    this.playing = false;
    this.frameRequest = null;
    this.lastTime = null;
    this.elapsed = 0;
    this.listenToControls();
    this.listenToPointer();
    this.shown = true; // false while the slide it is in is hidden: paused at data.openStep
    this.stopWatching = watchSlide(this.root, (shown) => this.setShown(shown));
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this.root);
    document.fonts.ready.then(() => this.draw()); // a canvas drawn before the page's font loaded
  }

  // New data (this.data) with `steps` steps, drawn: the step stays where it can (a change of kernel
  // keeps it); the first data opens on `openStep`. The root's data-revision counts the updates.
  showData(steps, openStep, presenter) {
    this.steps = steps;
    this.step = Math.min(this.step ?? openStep, steps - 1);
    this.scrubber.max = String(steps - 1);
    this.textScale = presenter ? 1.25 : 1;
    this.root.classList.toggle("optviz-steps--presenter", Boolean(presenter));
    this.revision += 1;
    this.root.dataset.revision = String(this.revision);
    if (this.revision === 1 && this.data.autoplay && this.shown) this.setPlaying(true); // draws
    else this.draw();
  }

  setPlaying(playing) {
    if (!this.data) return;
    if (playing && this.step >= this.steps - 1) this.step = 0; // Play at the end starts again
    this.playing = playing;
    this.lastTime = null;
    this.elapsed = 0;
    this.draw();
    if (playing) this.requestTick();
  }

  goTo(step) {
    if (!this.data) return;
    this.step = Math.max(0, Math.min(this.steps - 1, step));
    this.draw();
  }

  requestTick() {
    if (this.frameRequest === null) this.frameRequest = requestAnimationFrame((t) => this.tick(t));
  }

  tick(time) {
    this.frameRequest = null;
    if (!this.playing || !this.data) return;
    if (this.lastTime !== null) this.elapsed += time - this.lastTime;
    this.lastTime = time;
    const advance = Math.floor(this.elapsed / this.data.frameMs);
    if (advance > 0) {
      this.elapsed -= advance * this.data.frameMs;
      this.step = Math.min(this.steps - 1, this.step + advance);
      if (this.step >= this.steps - 1) this.playing = false;
      this.draw();
    }
    if (this.playing) this.requestTick();
  }

  listenToControls() {
    this.playButton.addEventListener("click", () => this.setPlaying(!this.playing));
    this.scrubber.addEventListener("input", () => {
      this.playing = false;
      this.goTo(Number(this.scrubber.value));
    });
    this.root.addEventListener("pointerdown", () => this.root.focus({ preventScroll: true }));
    this.root.addEventListener("keydown", (event) => {
      if (controlKeepsKey(event)) return;
      const jump = event.shiftKey ? 10 : 1;
      const actions = {
        " ": () => this.setPlaying(!this.playing),
        ArrowLeft: () => { this.playing = false; this.goTo(this.step - jump); },
        ArrowRight: () => { this.playing = false; this.goTo(this.step + jump); },
        Home: () => this.goTo(0),
        End: () => { this.playing = false; this.goTo(this.steps - 1); },
      };
      const action = actions[event.key];
      if (!action) return;
      event.preventDefault();
      event.stopPropagation();
      action();
    });
  }

  // Pointing at (or tapping) a cell that cellAt(event) names shows its step, and pauses.
  listenToPointer() {
    const showCell = (event) => {
      const cell = this.cellAt(event);
      if (cell === null || (event.type === "pointermove" && this.playing)) return;
      this.playing = false;
      this.goTo(cell);
    };
    this.canvas.addEventListener("pointermove", showCell);
    this.canvas.addEventListener("pointerdown", showCell);
  }

  setShown(shown) {
    if (shown === this.shown) return;
    this.shown = shown;
    if (!this.data) return;
    if (!shown) this.rewind();
    else if (this.data.autoplay) this.setPlaying(true);
  }

  rewind() {
    this.playing = false;
    this.goTo(this.data.openStep);
  }

  showStep() {
    this.root.dataset.step = String(this.step);
    this.root.dataset.playing = String(this.playing);
    this.playButton.textContent = this.playing ? "❚❚ Pause" : "▶ Play";
    this.scrubber.value = String(this.step);
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.stopWatching?.();
    if (this.frameRequest !== null) cancelAnimationFrame(this.frameRequest);
  }
}
