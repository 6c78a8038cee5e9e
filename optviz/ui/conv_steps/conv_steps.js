// The convolution step by step, on one canvas: the zero-padded input with the window on it, the
// patch under the window, the kernel, their element-wise products with the sum, and the output map
// filled in reading order up to the current cell. Play, the scrubber, Space and the arrow keys move
// the window; pointing at an output cell shows the window that made it.
//
// Each step is worked out here from the data (optviz/conv/figures.py, step_data) by the definition
// the page teaches: kernel cell (u, v) of output cell (i, j) lands on padded-input cell
// (i s + u d, j s + v d). The sum shown is the server's output value (the layer's own answer).
//
// Wide: the five panels in a row. Narrow (a phone): the input and the output side by side, the
// patch, kernel and products under them, so that the numbers stay readable. Presenter mode: text a
// quarter larger, lines thicker.

const GREY_TEXT = "#555";
const NOT_YET = "#eeeeee";
const NARROW_PX = 600;

function sumLabel(value) {
  return String(Number(value.toPrecision(3)));
}

function imageCanvas(image) {
  const canvas = document.createElement("canvas");
  canvas.width = image.cols;
  canvas.height = image.rows;
  const rgb = decodeBytes(image.rgb);
  const pixels = new ImageData(image.cols, image.rows);
  for (let n = 0; n < image.rows * image.cols; n++) {
    pixels.data.set(rgb.subarray(3 * n, 3 * n + 3), 4 * n);
    pixels.data[4 * n + 3] = 255;
  }
  canvas.getContext("2d").putImageData(pixels, 0, 0);
  return canvas;
}

class ConvSteps extends StepChart { // canvas_kit.js: Play, the scrubber, the keys, the slide
  constructor(parent) {
    super(parent);
    const root = this.root;
    // For tests: step n's window as the chart works it out ({index, taps, patch, products, sum}),
    // and where each panel is drawn ({input, patch, kernel, products, output}: {x, y, size} in CSS
    // px from the canvas's top-left).
    root.windowAt = (n) => this.windowAt(n);
    root.panels = () => this.layout;
  }

  update(data) {
    if (!data) return;
    const input = { ...data.input, values: decodeFloat32(data.input.values), picture: imageCanvas(data.input) };
    const output = { ...data.output, values: decodeFloat32(data.output.values), picture: imageCanvas(data.output) };
    this.data = { ...data, input, output };
    this.showData(output.rows * output.cols, data.openStep, data.presenter);
  }

  // --- the steps -------------------------------------------------------------------------------

  windowAt(n) {
    const { input, output, kernel, stride, dilation } = this.data;
    const i = Math.floor(n / output.cols);
    const j = n % output.cols;
    const taps = [];
    const patch = [];
    const products = [];
    for (let u = 0; u < kernel.k; u++) {
      for (let v = 0; v < kernel.k; v++) {
        const r = i * stride + u * dilation;
        const c = j * stride + v * dilation;
        const value = input.values[r * input.cols + c];
        taps.push([r, c]);
        patch.push(value);
        products.push(value * kernel.values[u * kernel.k + v]);
      }
    }
    return { index: [i, j], taps, patch, products, sum: output.values[n] };
  }

  // --- input -----------------------------------------------------------------------------------

  // The output cell under the pointer (its window is shown), or null.
  cellAt(event) {
    const box = this.layout?.output;
    if (!box) return null;
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left - box.x;
    const y = event.clientY - rect.top - box.y;
    const { rows, cols } = this.data.output;
    const c = Math.floor((x / box.size) * cols);
    const r = Math.floor((y / box.size) * rows);
    return r >= 0 && r < rows && c >= 0 && c < cols ? r * cols + c : null;
  }

  // --- drawing ---------------------------------------------------------------------------------

  // Square panels: {x, y, size} in CSS px, and where the titles and signs go.
  computeLayout(width) {
    const height = this.data.height;
    const title = Math.round(22 * this.textScale);
    if (width < NARROW_PX) {
      const big = Math.min((width - 16) / 2, height * 0.55);
      const small = Math.min((width - 60) / 3, 140);
      const rowTwo = title + big + 16 + title;
      const y = [title, rowTwo];
      const gap = (width - 3 * small) / 3;
      return {
        height: rowTwo + small + 26,
        input: { x: 0, y: y[0], size: big },
        output: { x: width - big - 2, y: y[0], size: big },
        patch: { x: gap / 2, y: y[1], size: small },
        kernel: { x: gap * 1.5 + small, y: y[1], size: small },
        products: { x: gap * 2.5 + 2 * small, y: y[1], size: small },
        signs: [[gap + small, y[1] + small / 2, "⊙"], [gap * 2 + 2 * small, y[1] + small / 2, "="]],
      };
    }
    const big = Math.min(width * 0.27, height - title - 4);
    const small = Math.min(width * 0.11, big * 0.6);
    const middle = title + big / 2;
    const grid = (fraction) => ({ x: width * fraction + (width * 0.11 - small) / 2, y: middle - small / 2, size: small });
    const output = Math.min(width * 0.23, big);
    return {
      height: title + big + 4,
      input: { x: 0, y: title, size: big },
      patch: grid(0.31),
      kernel: grid(0.46),
      products: grid(0.6),
      output: { x: width - output - 2, y: title + (big - output) / 2, size: output },
      signs: [[width * 0.44, middle, "⊙"], [width * 0.585, middle, "="], [width * 0.74, middle, "Σ →"]],
    };
  }

  draw() {
    if (!this.data) return;
    const width = this.root.clientWidth;
    if (!width) return;
    const layout = this.computeLayout(width);
    this.layout = layout;
    const context = fitCanvas(this.canvas, width, layout.height); // canvas_kit.js
    const window_ = this.windowAt(this.step);
    this.drawInput(context, layout.input, window_);
    this.drawGrid(context, layout.patch, "patch", window_.patch);
    this.drawGrid(context, layout.kernel, "kernel", this.data.kernel.values);
    this.drawGrid(context, layout.products, "patch ⊙ kernel", window_.products);
    context.fillStyle = GREY_TEXT;
    context.font = this.font(14);
    context.textAlign = "center";
    context.textBaseline = "top";
    context.fillText(`sum = ${sumLabel(window_.sum)}`, layout.products.x + layout.products.size / 2,
      layout.products.y + layout.products.size + 8);
    context.textBaseline = "middle";
    context.font = this.font(16);
    for (const [x, y, sign] of layout.signs) context.fillText(sign, x, y);
    this.drawOutput(context, layout.output, window_);
    this.showState(window_);
  }

  font(px) {
    return `${Math.round(px * this.textScale)}px "Source Sans", sans-serif`;
  }

  title(context, box, text) {
    context.fillStyle = GREY_TEXT;
    context.font = this.font(14);
    context.textAlign = "center";
    context.textBaseline = "bottom";
    context.fillText(text, box.x + box.size / 2, box.y - 6);
  }

  drawInput(context, box, window_) {
    const { input, inner, kernel, dilation, highlight } = this.data;
    const cell = box.size / Math.max(input.rows, input.cols);
    this.title(context, box, "input (padded)");
    context.imageSmoothingEnabled = false;
    context.drawImage(input.picture, box.x, box.y, cell * input.cols, cell * input.rows);
    drawPaddingEdge(context, box, cell, inner, [input.rows, input.cols]); // canvas_kit.js
    drawWindow(context, box, cell, window_.taps, (kernel.k - 1) * dilation + 1, highlight, 3 * this.textScale);
  }

  drawGrid(context, box, title, values) {
    this.title(context, box, title);
    drawNumberGrid(context, box, this.data.kernel.k, values, (px) => this.font(px)); // canvas_kit.js
  }

  drawOutput(context, box, window_) {
    const { output, highlight } = this.data;
    const cell = box.size / Math.max(output.rows, output.cols);
    const [i, j] = window_.index;
    this.title(context, box, "output");
    context.fillStyle = NOT_YET;
    context.fillRect(box.x, box.y, cell * output.cols, cell * output.rows);
    context.save(); // the cells computed so far: the rows above, and row i up to column j
    context.beginPath();
    context.rect(box.x, box.y, cell * output.cols, cell * i);
    context.rect(box.x, box.y + cell * i, cell * (j + 1), cell);
    context.clip();
    context.imageSmoothingEnabled = false;
    context.drawImage(output.picture, box.x, box.y, cell * output.cols, cell * output.rows);
    context.restore();
    context.strokeStyle = "#999";
    context.lineWidth = 1;
    context.strokeRect(box.x + 0.5, box.y + 0.5, cell * output.cols, cell * output.rows);
    context.strokeStyle = highlight;
    context.lineWidth = 3 * this.textScale;
    context.strokeRect(box.x + j * cell, box.y + i * cell, cell, cell);
  }

  showState(window_) {
    const [i, j] = window_.index;
    this.showStep();
    this.cellLabel.textContent = `output cell (${i}, ${j})`;
  }
}

export default (component) => mountOnce(component, ConvSteps); // canvas_kit.js
