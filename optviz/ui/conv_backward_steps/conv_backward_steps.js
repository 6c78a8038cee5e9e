// The backward pass of a convolution step by step, on one canvas. Output cell (i, j) took the patch
// under its window and the kernel K to make y[i, j]; its upstream gradient g = dL/dY[i, j] flows back
// to both factors: the step adds g * patch to dL/dK and g * K to dL/dX on the window's taps. Shown:
// dL/dY with its cells s apart (as the transposed convolution spreads them: the gaps), the padded
// input with the window, the patch, dL/dK so far, the kernel, and dL/dX so far (on the padded grid:
// what lands on the padding is cropped away at the end). Play, the scrubber, Space and the arrow
// keys step through the output cells in reading order; pointing at a cell of dL/dY goes there.
//
// Every step is worked out here from the data (optviz/conv/backward_figures.py, step_data) by the
// definition `conv.backward_steps` states: kernel cell (u, v) of output cell (i, j) lands on
// padded-input cell (i s + u d, j s + v d); the sums so far are summed afresh (or carried on from
// the last step drawn). Its browser test holds it to `backward_steps` and `conv2d_backward`.
//
// Wide: dL/dY on the left, the input above dL/dX in the middle (the window at the same place in
// both), the grids on the right. Narrow (a phone): dL/dY and the input side by side, then the patch
// and dL/dK, then the kernel and dL/dX. Presenter mode: text a quarter larger, lines thicker.

const GREY_TEXT = "#555";
const FRAME = "#999";
const NARROW_PX = 600;

// A picture of a rows x cols grid of `values`, each cell coloured from `palette` (RGB bytes, evenly
// spaced along a colour scale) by where it lies between lo and hi: one pixel a cell.
function picture(rows, cols, values, palette, lo, hi) {
  const canvas = document.createElement("canvas");
  canvas.width = cols;
  canvas.height = rows;
  const pixels = new ImageData(cols, rows);
  const last = palette.length / 3 - 1;
  for (let n = 0; n < rows * cols; n++) {
    const t = Math.min(1, Math.max(0, (values[n] - lo) / (hi - lo || 1)));
    const at = 3 * Math.round(t * last);
    pixels.data.set(palette.subarray(at, at + 3), 4 * n);
    pixels.data[4 * n + 3] = 255;
  }
  canvas.getContext("2d").putImageData(pixels, 0, 0);
  return canvas;
}

class ConvBackward extends StepChart { // canvas_kit.js: Play, the scrubber, the keys, the slide
  constructor(parent) {
    super(parent);
    const root = this.root;
    this.sums = null; // the sums after the last step worked out: {step, dw, dxPad}
    // For tests: step n as the chart works it out ({index, dy, taps, patch, dw, dxPad}: the sums
    // after step n, dxPad row by row on the padded grid), dL/dY spread by the stride ({rows, cols,
    // values}), and where each panel is drawn ({x, y, size} in CSS px from the canvas's top-left).
    root.stepAt = (n) => {
      const step = this.stepAt(n);
      return { ...step, dw: Array.from(step.dw), dxPad: Array.from(step.dxPad) };
    };
    root.spreadDy = () => ({ ...this.data.spread, values: Array.from(this.data.spread.values) });
    root.panels = () => this.layout;
  }

  update(data) {
    if (!data) return;
    const grey = decodeBytes(data.palettes.grey);
    const diverging = decodeBytes(data.palettes.diverging);
    const input = { ...data.input, values: decodeFloat32(data.input.values) };
    input.picture = picture(input.rows, input.cols, input.values, grey, ...data.inputRange);
    const dy = { ...data.dy, values: decodeFloat32(data.dy.values) };
    // The largest |g| at two thirds of the colour scale's end: dL/dY of ones is a light sheet, not a
    // dark block that outweighs the window.
    dy.limit = 1.5 * (dy.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1);
    this.data = { ...data, input, dy, diverging };
    this.data.spread = this.spread();
    const { spread } = this.data;
    spread.picture = picture(spread.rows, spread.cols, spread.values, diverging, -dy.limit, dy.limit);
    this.sums = null;
    this.data.dxLimit = this.largestDx();
    this.showData(dy.rows * dy.cols, data.openStep, data.presenter);
  }

  // --- the steps -------------------------------------------------------------------------------

  // dL/dY with s - 1 zeros between its cells: the input of the transposed convolution.
  spread() {
    const { dy, stride } = this.data;
    const rows = stride * (dy.rows - 1) + 1;
    const cols = stride * (dy.cols - 1) + 1;
    const values = new Float32Array(rows * cols);
    for (let i = 0; i < dy.rows; i++) {
      for (let j = 0; j < dy.cols; j++) values[i * stride * cols + j * stride] = dy.values[i * dy.cols + j];
    }
    return { rows, cols, values };
  }

  // Output cell n's window: its index, gradient, taps (kernel cell (u, v) at (i s + u d, j s + v d)
  // of the padded input) and the patch under them.
  windowAt(n) {
    const { input, dy, kernel, stride, dilation } = this.data;
    const i = Math.floor(n / dy.cols);
    const j = n % dy.cols;
    const taps = [];
    const patch = [];
    for (let u = 0; u < kernel.k; u++) {
      for (let v = 0; v < kernel.k; v++) {
        const [r, c] = [i * stride + u * dilation, j * stride + v * dilation];
        taps.push([r, c]);
        patch.push(input.values[r * input.cols + c]);
      }
    }
    return { index: [i, j], dy: dy.values[n], taps, patch };
  }

  // One step's share: dL/dK += g * patch, dL/dX (padded) += g * K on the taps. Returns the largest
  // size among the dL/dX cells it changed.
  addStep(n, dw, dxPad) {
    const { input, kernel } = this.data;
    const { dy: g, taps, patch } = this.windowAt(n);
    let largest = 0;
    taps.forEach(([r, c], t) => {
      dw[t] += g * patch[t];
      dxPad[r * input.cols + c] += g * kernel.values[t];
      largest = Math.max(largest, Math.abs(dxPad[r * input.cols + c]));
    });
    return largest;
  }

  // Step n with the sums after it (carried on from the last step worked out when n is past it).
  stepAt(n) {
    const { input, kernel } = this.data;
    if (this.sums === null || this.sums.step > n) {
      const [dw, dxPad] = [new Float64Array(kernel.k * kernel.k), new Float64Array(input.rows * input.cols)];
      this.sums = { step: -1, dw, dxPad };
    }
    for (let m = this.sums.step + 1; m <= n; m++) this.addStep(m, this.sums.dw, this.sums.dxPad);
    this.sums.step = n;
    return { ...this.windowAt(n), dw: this.sums.dw, dxPad: this.sums.dxPad };
  }

  // The largest size dL/dX reaches at any step: its colour scale, so that no step saturates.
  largestDx() {
    const { input, kernel, dy } = this.data;
    const dw = new Float64Array(kernel.k * kernel.k);
    const dxPad = new Float64Array(input.rows * input.cols);
    let largest = 0;
    for (let n = 0; n < dy.rows * dy.cols; n++) largest = Math.max(largest, this.addStep(n, dw, dxPad));
    return largest || 1;
  }

  // --- input -----------------------------------------------------------------------------------

  // The cell of dL/dY under the pointer (its step is shown), or null: the gaps are no cells.
  cellAt(event) {
    const box = this.layout?.dy;
    if (!box) return null;
    const { spread, dy, stride } = this.data;
    const rect = this.canvas.getBoundingClientRect();
    const cell = box.size / Math.max(spread.rows, spread.cols);
    const c = Math.floor((event.clientX - rect.left - box.x) / cell);
    const r = Math.floor((event.clientY - rect.top - box.y) / cell);
    const inside = r >= 0 && r < spread.rows && c >= 0 && c < spread.cols;
    return inside && r % stride === 0 && c % stride === 0 ? (r / stride) * dy.cols + c / stride : null;
  }

  // --- drawing ---------------------------------------------------------------------------------

  // Square panels {x, y, size} in CSS px; the signs between them; where the value of g is written.
  computeLayout(width) {
    const title = Math.round(22 * this.textScale);
    const caption = Math.round(24 * this.textScale);
    const { input, spread } = this.data;
    // dL/dY at the pictures' scale (one cell as wide as an input cell).
    const scaled = (big) => (big * Math.max(spread.rows, spread.cols)) / Math.max(input.rows, input.cols);
    if (width < NARROW_PX) {
      const big = Math.min((width - 16) / 2, 220);
      const dySize = scaled(big);
      const small = Math.min((width - 90) / 2, 110);
      const rows = [title, title + big + 12 + title];
      rows.push(rows[1] + small + caption + 6 + title);
      const left = (width - 2 * small - 70) / 2;
      const kernelX = Math.max(2, left - 24); // room for "× g →" before dL/dX
      const middle = (r, size) => rows[r] + size / 2;
      return {
        height: rows[2] + big + 6,
        dy: { x: (big - dySize) / 2, y: rows[0] + (big - dySize) / 2, size: dySize },
        input: { x: width - big - 2, y: rows[0], size: big },
        patch: { x: left, y: rows[1], size: small },
        dw: { x: left + small + 70, y: rows[1], size: small },
        kernel: { x: kernelX, y: rows[2] + (big - small) / 2, size: small },
        dx: { x: width - big - 2, y: rows[2], size: big },
        signs: [
          [left + small + 35, middle(1, small), "× g →"],
          [(kernelX + small + width - big) / 2, middle(2, big), "× g →"],
        ],
        gValue: null,
      };
    }
    const height = this.data.height;
    const big = Math.min((height - 2 * title - 14) / 2, width * 0.25);
    const small = Math.min(width * 0.13, big * 0.65);
    const free = width - 2 * big - 2 * small - 4;
    const x = [0, big + free * 0.28, 2 * big + free * 0.56]; // dL/dY; the pictures; the grids
    const lanes = [title, title + big + 14 + title];
    const dySize = scaled(big); // between the two lanes
    const grid = (lane, right) => ({ x: x[2] + right, y: lanes[lane] + (big - small) / 2, size: small });
    const between = (x[1] + big + x[2]) / 2;
    const times = x[2] + small + free * 0.22;
    const middle = (lane) => lanes[lane] + big / 2;
    return {
      height: lanes[1] + big + 4,
      dy: { x: x[0] + (big - dySize) / 2, y: (lanes[0] + lanes[1] + big - dySize) / 2, size: dySize },
      input: { x: x[1], y: lanes[0], size: big },
      dx: { x: x[1], y: lanes[1], size: big },
      patch: grid(0, 0),
      dw: grid(0, small + free * 0.44),
      kernel: grid(1, 0),
      signs: [
        [between, middle(0), "→"], [times, middle(0), "× g →"],
        [between, middle(1), "←"], [times, middle(1), "× g"],
      ],
      gValue: true,
    };
  }

  draw() {
    if (!this.data) return;
    const width = this.root.clientWidth;
    if (!width) return;
    const layout = this.computeLayout(width);
    this.layout = layout;
    const context = fitCanvas(this.canvas, width, layout.height); // canvas_kit.js
    const step = this.stepAt(this.step);
    const { kernel, input } = this.data;
    this.drawGradient(context, layout.dy, step);
    this.drawPadded(context, layout.input, "input (padded)", input.picture, step, true);
    const { diverging, dxLimit } = this.data;
    const dx = picture(input.rows, input.cols, step.dxPad, diverging, -dxLimit, dxLimit);
    this.drawPadded(context, layout.dx, "∂L/∂X so far (padded)", dx, step, false);
    this.drawGrid(context, layout.patch, "patch", step.patch);
    this.drawGrid(context, layout.dw, "∂L/∂K so far", step.dw);
    this.drawGrid(context, layout.kernel, "kernel K", kernel.values);
    this.caption(context, layout.dw, "+= g · patch");
    this.caption(context, layout.kernel, "g · K onto the window");
    context.fillStyle = "#262730";
    context.font = this.font(18);
    context.textAlign = "center";
    context.textBaseline = "middle";
    for (const [x, y, sign] of layout.signs) context.fillText(sign, x, y);
    const g = `g = ∂L/∂Y[${step.index[0]}, ${step.index[1]}] = ${cellLabel(step.dy)}`;
    if (layout.gValue) this.caption(context, layout.dy, g);
    this.showStep();
    this.cellLabel.textContent = `output cell (${step.index[0]}, ${step.index[1]}): g = ${cellLabel(step.dy)}`;
  }

  font(px) {
    return `${Math.round(px * this.textScale)}px "Source Sans", sans-serif`;
  }

  // A panel's title centred over it, kept inside the canvas (a title wider than its panel).
  title(context, box, text) {
    context.fillStyle = GREY_TEXT;
    context.font = this.font(14);
    context.textAlign = "center";
    context.textBaseline = "bottom";
    const half = context.measureText(text).width / 2;
    const x = Math.min(Math.max(box.x + box.size / 2, half), this.root.clientWidth - half);
    context.fillText(text, x, box.y - 6);
  }

  caption(context, box, text) {
    context.fillStyle = GREY_TEXT;
    context.font = this.font(13);
    context.textAlign = "center";
    context.textBaseline = "top";
    context.fillText(text, box.x + box.size / 2, box.y + box.size + 6);
  }

  drawGrid(context, box, title, values) {
    this.title(context, box, title);
    drawNumberGrid(context, box, this.data.kernel.k, values, (px) => this.font(px)); // canvas_kit.js
  }

  // dL/dY spread by the stride, the current cell outlined.
  drawGradient(context, box, step) {
    const { spread, stride, highlight } = this.data;
    const cell = box.size / Math.max(spread.rows, spread.cols);
    const title = stride > 1 ? `∂L/∂Y, its cells ${stride} apart` : "∂L/∂Y (from the layer above)";
    this.title(context, box, title);
    context.imageSmoothingEnabled = false;
    context.drawImage(spread.picture, box.x, box.y, cell * spread.cols, cell * spread.rows);
    context.strokeStyle = FRAME;
    context.lineWidth = 1;
    context.strokeRect(box.x + 0.5, box.y + 0.5, cell * spread.cols, cell * spread.rows);
    const [i, j] = step.index;
    context.strokeStyle = highlight;
    context.lineWidth = 3 * this.textScale;
    context.strokeRect(box.x + j * stride * cell, box.y + i * stride * cell, cell, cell);
  }

  // A picture on the padded grid (the input, or dL/dX so far) with the padding's edge and the window
  // (its taps dotted on the input; on dL/dX the colours of g * K show them).
  drawPadded(context, box, title, image, step, dots) {
    const { input, inner, kernel, dilation, highlight } = this.data;
    const cell = box.size / Math.max(input.rows, input.cols);
    this.title(context, box, title);
    context.imageSmoothingEnabled = false;
    context.drawImage(image, box.x, box.y, cell * input.cols, cell * input.rows);
    context.strokeStyle = FRAME;
    context.lineWidth = 1;
    context.strokeRect(box.x + 0.5, box.y + 0.5, cell * input.cols, cell * input.rows);
    drawPaddingEdge(context, box, cell, inner, [input.rows, input.cols]); // canvas_kit.js
    const span = (kernel.k - 1) * dilation + 1;
    drawWindow(context, box, cell, step.taps, span, highlight, 2.5 * this.textScale, dots); // canvas_kit.js
  }
}

export default (component) => mountOnce(component, ConvBackward); // canvas_kit.js
