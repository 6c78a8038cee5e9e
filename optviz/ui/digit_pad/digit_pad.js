// The drawing pad (optviz/ui/digit_pad): strokes drawn with a mouse, a pen or a finger, reduced to
// 28 x 28 ink coverage by area averaging, and sent to the page when a stroke ends, on Undo and on
// Clear. Strokes are kept in cells of the 28 x 28 grid (0..28), so the pad may be drawn at any size.

const PAD_CELLS = 28;
const CELL_PX = 10; // the reduction draws at 280 x 280 px: each cell is the mean of its 10 x 10 pixels
const BRUSHES = { thin: 2, normal: 3, thick: 4 }; // the brush's diameter in cells (MNIST's strokes: ~2-3)
const MIN_STEP = 0.08; // cells a pointer must move before its stroke takes another point
const MAX_POINTS = 5000; // points in all strokes: past it, a stroke takes no more and none starts
// The page's key -> {strokes, revision}: a pad taken off the page (its tab closed) and put back
// comes back drawn, and sends its drawing again (Streamlit drops the state of a component it did
// not draw in a run).
const savedPads = new Map();

class DigitPad {
  constructor(parent) {
    this.root = parent.querySelector(".optviz-pad");
    const find = (name) => this.root.querySelector(`.optviz-pad__${name}`);
    this.canvas = find("canvas");
    this.undoButton = find("undo");
    this.clearButton = find("clear");
    this.brushInputs = [...this.root.querySelectorAll(".optviz-pad__brushes input")];
    this.strokes = []; // [{size: diameter in cells, points: [x0, y0, x1, y1, ...] in cells}]
    this.drawing = null; // {id: the pointer drawing, stroke}
    this.revision = 0; // drawings sent
    this.key = null;
    this.setStateValue = null;
    this.frameRequest = null;
    this.reduction = document.createElement("canvas"); // off the page: where strokes become cells
    this.reduction.width = this.reduction.height = PAD_CELLS * CELL_PX;
    this.listen();
    this.resizeObserver = new ResizeObserver(() => this.requestDraw());
    this.resizeObserver.observe(this.canvas);
  }

  update(data, setStateValue) {
    this.setStateValue = setStateValue;
    if (!data) return;
    this.root.classList.toggle("optviz-pad--presenter", Boolean(data.presenter));
    if (this.key === null) {
      this.key = String(data.key);
      const saved = savedPads.get(this.key);
      if (saved) {
        // Put back: the page forgot the drawing of a pad it did not show, so it gets it again.
        this.strokes = saved.strokes;
        this.revision = saved.revision;
        this.send();
        return;
      }
    }
    this.showState();
  }

  listen() {
    this.canvas.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    this.canvas.addEventListener("pointermove", (event) => this.onPointerMove(event));
    this.canvas.addEventListener("pointerup", (event) => this.onPointerUp(event));
    this.canvas.addEventListener("pointercancel", (event) => this.onPointerUp(event));
    this.undoButton.addEventListener("click", () => this.undo());
    this.clearButton.addEventListener("click", () => this.clear());
    this.root.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
        event.preventDefault();
        this.undo();
      }
    });
  }

  // --- drawing --------------------------------------------------------------------------------

  cellPoint(event) {
    const box = this.canvas.getBoundingClientRect();
    const clamp = (v) => Math.max(0, Math.min(PAD_CELLS, v));
    return [
      clamp(((event.clientX - box.left) / box.width) * PAD_CELLS),
      clamp(((event.clientY - box.top) / box.height) * PAD_CELLS),
    ];
  }

  brushSize() {
    const checked = this.brushInputs.find((input) => input.checked);
    return BRUSHES[checked?.value] ?? BRUSHES.normal;
  }

  onPointerDown(event) {
    if (this.drawing || (event.pointerType === "mouse" && event.button !== 0)) return;
    if (this.pointCount() >= MAX_POINTS) return;
    event.preventDefault();
    this.root.focus({ preventScroll: true }); // so that Ctrl+Z undoes the stroke just drawn
    this.canvas.setPointerCapture(event.pointerId);
    const stroke = { size: this.brushSize(), points: this.cellPoint(event) };
    this.strokes.push(stroke);
    this.drawing = { id: event.pointerId, stroke };
    this.showState();
  }

  onPointerMove(event) {
    if (!this.drawing || event.pointerId !== this.drawing.id) return;
    const points = this.drawing.stroke.points;
    const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const move of moves.length ? moves : [event]) {
      const [x, y] = this.cellPoint(move);
      const n = points.length;
      if (Math.hypot(x - points[n - 2], y - points[n - 1]) < MIN_STEP) continue;
      if (this.pointCount() >= MAX_POINTS) break;
      points.push(x, y);
    }
    this.requestDraw();
  }

  onPointerUp(event) {
    if (!this.drawing || event.pointerId !== this.drawing.id) return;
    this.drawing = null;
    this.send();
  }

  pointCount() {
    return this.strokes.reduce((n, stroke) => n + stroke.points.length / 2, 0);
  }

  undo() {
    if (this.drawing || !this.strokes.length) return;
    this.strokes.pop();
    this.send();
  }

  clear() {
    if (this.drawing || !this.strokes.length) return;
    this.strokes = [];
    this.send();
  }

  // The strokes on `context`, whose unit is one cell: round brushes, a tap a dot.
  paintStrokes(context, colour) {
    context.strokeStyle = context.fillStyle = colour;
    context.lineCap = context.lineJoin = "round";
    for (const { size, points } of this.strokes) {
      context.beginPath();
      if (points.length === 2) {
        context.arc(points[0], points[1], size / 2, 0, 2 * Math.PI);
        context.fill();
        continue;
      }
      context.lineWidth = size;
      context.moveTo(points[0], points[1]);
      for (let i = 2; i < points.length; i += 2) context.lineTo(points[i], points[i + 1]);
      context.stroke();
    }
  }

  requestDraw() {
    if (this.frameRequest === null) {
      this.frameRequest = requestAnimationFrame(() => {
        this.frameRequest = null;
        this.draw();
      });
    }
  }

  // The pad as seen: a faint grid of the 28 x 28 cells the network sees, and the ink over it.
  draw() {
    const size = this.canvas.clientWidth;
    if (!size) return;
    const context = fitCanvas(this.canvas, size, size); // canvas_kit.js
    const cell = size / PAD_CELLS;
    context.strokeStyle = "#eef0f3";
    context.lineWidth = 1;
    context.beginPath();
    for (let i = 1; i < PAD_CELLS; i++) {
      const at = Math.round(i * cell) + 0.5;
      context.moveTo(at, 0);
      context.lineTo(at, size);
      context.moveTo(0, at);
      context.lineTo(size, at);
    }
    context.stroke();
    context.save();
    context.scale(cell, cell);
    this.paintStrokes(context, "#111");
    context.restore();
  }

  // --- what the page gets ---------------------------------------------------------------------

  // The ink of each of the 28 x 28 cells: the mean coverage of its 10 x 10 pixels, 0..255.
  cells() {
    const context = this.reduction.getContext("2d", { willReadFrequently: true });
    const side = this.reduction.width;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, side, side);
    context.scale(CELL_PX, CELL_PX);
    this.paintStrokes(context, "#000");
    const alpha = context.getImageData(0, 0, side, side).data;
    const sums = new Float64Array(PAD_CELLS * PAD_CELLS);
    for (let y = 0; y < side; y++) {
      const row = Math.floor(y / CELL_PX) * PAD_CELLS;
      for (let x = 0; x < side; x++) sums[row + Math.floor(x / CELL_PX)] += alpha[(y * side + x) * 4 + 3];
    }
    return Uint8Array.from(sums, (sum) => Math.round(sum / (CELL_PX * CELL_PX)));
  }

  send() {
    this.revision += 1;
    if (this.key !== null) savedPads.set(this.key, { strokes: this.strokes, revision: this.revision });
    const pixels = btoa(String.fromCharCode(...this.cells()));
    this.showState();
    this.root.dataset.revision = String(this.revision);
    if (this.setStateValue) {
      this.setStateValue("drawing", { pixels, strokes: this.strokes.length, revision: this.revision });
    }
  }

  showState() {
    const count = this.strokes.length;
    this.root.classList.toggle("optviz-pad--drawn", count > 0);
    this.root.dataset.strokes = String(count);
    this.root.dataset.revision = String(this.revision);
    const focused = this.root.contains(document.activeElement) && document.activeElement.tagName === "BUTTON";
    this.undoButton.disabled = this.clearButton.disabled = count === 0;
    if (focused && count === 0) this.root.focus(); // a disabled button drops the focus: keep it in the pad
    this.canvas.setAttribute(
      "aria-label", count ? `The drawing: ${count} stroke${count > 1 ? "s" : ""}` : "The drawing, empty",
    );
    this.requestDraw();
  }

  destroy() {
    this.resizeObserver.disconnect();
    if (this.frameRequest !== null) cancelAnimationFrame(this.frameRequest);
  }
}

export default (component) => mountOnce(component, DigitPad); // canvas_kit.js
