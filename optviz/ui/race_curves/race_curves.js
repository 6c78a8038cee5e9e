// The lab's loss and distance curves: f(θ_t) − f* and the distance to the nearest minimum against
// the step, one line per optimizer, with a cursor at the step the race chart shows.
//
// Two canvases: "lines" holds what changes with the data and the size (axes, ticks, titles, curves);
// "cursor" is redrawn when the step changes (the cursor line, a dot on each curve, the pointer's
// step), at most once per display frame. The race chart (optviz/ui/race_chart) dispatches
// `optviz-race-step` on window whenever its step changes, so the cursor follows a playing race with
// no server round trip; at mount the step is read from the race chart's data-step. A click (or tap)
// on the curves dispatches `optviz-race-goto`, which the race chart answers by pausing there.
//
// On a log axis the data holds log10(v) (optviz/lab/curves_data.py), so the drawing is linear in
// what it is given; a non-finite value is a gap in the line.

const RACE_CHART = '[data-testid="race-chart"]';
const NARROW_PX = 600; // below this width the two panels are stacked
const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

// 10 to the `exponent` as it is written: 1, 10, 10², 10⁻³.
function powerOfTen(exponent) {
  if (exponent === 0) return "1";
  if (exponent === 1) return "10";
  return "10" + String(exponent).replace(/./g, (c) => SUPERSCRIPT[c]);
}

// A value to 3 significant digits, as 3.21×10⁻⁴ when it is very small or large.
function formatValue(v) {
  if (!Number.isFinite(v)) return "–";
  const size = Math.abs(v);
  if (size !== 0 && (size < 1e-3 || size >= 1e5)) {
    const exponent = Math.floor(Math.log10(size));
    let mantissa = (v / 10 ** exponent).toFixed(2);
    if (Math.abs(Number(mantissa)) >= 10) return formatValue(Number(`${mantissa}e${exponent}`));
    mantissa = mantissa.replace(/\.?0+$/, "");
    return mantissa === "1" ? powerOfTen(exponent) : `${mantissa}×${powerOfTen(exponent)}`;
  }
  return String(Number(v.toPrecision(3)));
}

// Ticks on an axis from `low` to `high` (in what is drawn: log10(v) on a log axis), about `count`.
// A log axis gets powers of ten, every k-th decade (k = 1, 2, 5, 10, ...) when there are many;
// less than two decades in view, round values of v instead. Each tick: {at, label}.
function ticks(low, high, count, log) {
  if (log) {
    const decades = Math.floor(high) - Math.ceil(low) + 1;
    if (decades >= 2) {
      const every = Math.max(1, niceStep(decades, count));
      const out = [];
      for (let e = Math.ceil(low / every) * every; e <= high; e += every) out.push({ at: e, label: powerOfTen(e) });
      if (out.length >= 2) return out;
    }
    const [a, b] = [10 ** low, 10 ** high];
    const step = niceStep(b - a, count);
    const out = [];
    for (let v = Math.ceil(a / step) * step; v <= b; v += step) {
      if (v > 0) out.push({ at: Math.log10(v), label: formatValue(v) });
    }
    return out;
  }
  const step = niceStep(high - low, count);
  const out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
    const value = Math.abs(v) < step / 2 ? 0 : v;
    out.push({ at: value, label: formatValue(value) });
  }
  return out;
}

// The drawn range of one panel: every finite value of every curve, with a little room, and a
// decade (log) or a unit-ish span (linear) around a flat line.
function valueRange(series, log) {
  let low = Infinity;
  let high = -Infinity;
  for (const values of series) {
    for (const v of values) {
      if (Number.isFinite(v)) {
        if (v < low) low = v;
        if (v > high) high = v;
      }
    }
  }
  if (low > high) return [0, 1];
  if (high - low < 1e-9 * Math.max(1, Math.abs(high))) {
    const half = log ? 0.5 : Math.max(Math.abs(high) * 0.1, 0.5);
    return [low - half, high + half];
  }
  const pad = (high - low) * 0.04;
  return [low - pad, high + pad];
}

class RaceCurves {
  constructor(parent) {
    this.root = parent.querySelector(".optviz-curves");
    const find = (name) => this.root.querySelector(`.optviz-curves__${name}`);
    this.stepLabel = find("step");
    this.legend = find("legend");
    this.panelsBox = find("panels");
    this.lines = find("lines");
    this.cursor = find("cursor");

    this.data = null; // {steps, axes: [{title, log}], curves: [{label, colour, values: [Float32Array x2]}]}
    this.signature = null;
    this.revision = 0;
    this.presenter = false;
    this.height = 300;
    this.layout = null;
    this.valueSpans = [];
    // The race's step as announced, and as shown (within this data's steps: the race may announce
    // a step of a longer run before the curves of that run arrive).
    this.announced = Number(document.querySelector(RACE_CHART)?.dataset.step) || 0;
    this.raceStep = 0;
    this.hoverStep = null;
    this.frameRequest = null;
    this.linesDirty = true;
    this.destroyed = false;

    this.onRaceStep = (event) => this.setRaceStep(Number(event.detail?.step));
    window.addEventListener("optviz-race-step", this.onRaceStep);
    this.cursor.addEventListener("pointermove", (e) => this.setHover(this.stepAt(e)));
    this.cursor.addEventListener("pointerdown", (e) => this.setHover(this.stepAt(e)));
    this.cursor.addEventListener("pointerleave", () => this.setHover(null));
    this.cursor.addEventListener("click", (e) => {
      const step = this.stepAt(e);
      if (step === null) return;
      window.dispatchEvent(new CustomEvent("optviz-race-goto", { detail: { step } }));
    });
    // A new width lays the panels out again; the height they set themselves does not.
    this.resizeObserver = new ResizeObserver(() => {
      if (this.layout && this.root.clientWidth === this.layout.width) return;
      this.layout = null;
      this.request(true);
    });
    this.resizeObserver.observe(this.root);
  }

  // --- data from Python ------------------------------------------------------------------------

  update(data) {
    if (!data?.curves) return;
    const presenter = Boolean(data.presenter);
    if (presenter !== this.presenter || data.height !== this.height) this.layout = null;
    this.presenter = presenter;
    this.height = data.height ?? 300;
    this.root.classList.toggle("optviz-curves--presenter", presenter);
    const packed = data.curves;
    if (packed.signature !== this.signature) {
      this.signature = packed.signature;
      this.data = {
        steps: packed.steps,
        axes: packed.axes,
        curves: packed.curves.map((c) => ({
          label: c.label,
          colour: c.colour,
          values: c.values.map(decodeFloat32),
        })),
      };
      this.layout = null;
      this.renderLegend();
      this.revision += 1;
      this.root.dataset.revision = String(this.revision);
      this.setRaceStep(this.announced);
    }
    this.request(true);
  }

  // The legend is the readout: each optimizer's swatch and label (text, never markup), then its two
  // values at the step shown.
  renderLegend() {
    this.legend.replaceChildren();
    this.valueSpans = this.data.curves.map((curve) => {
      const item = document.createElement("span");
      item.className = "optviz-curves__item";
      const swatch = document.createElement("i");
      swatch.style.background = curve.colour;
      const value = document.createElement("span");
      value.className = "optviz-curves__value";
      item.append(swatch, curve.label, " ", value);
      this.legend.append(item);
      return value;
    });
  }

  // --- the step --------------------------------------------------------------------------------

  setRaceStep(step) {
    if (!Number.isFinite(step)) return;
    this.announced = step;
    this.raceStep = Math.max(0, Math.min(this.data?.steps ?? 0, Math.round(step)));
    const text = String(this.raceStep);
    if (this.root.dataset.step !== text) this.root.dataset.step = text;
    this.request(false);
  }

  setHover(step) {
    if (step === this.hoverStep) return;
    this.hoverStep = step;
    this.request(false);
  }

  // The step under a pointer event, or null off the panels.
  stepAt(event) {
    if (!this.layout || !this.data) return null;
    const box = this.cursor.getBoundingClientRect();
    const [px, py] = [event.clientX - box.left, event.clientY - box.top];
    const panel = this.layout.panels.find(
      (p) => px >= p.left - 4 && px <= p.left + p.width + 4 && py >= p.top && py <= p.top + p.height,
    );
    if (!panel) return null;
    const u = Math.max(0, Math.min(1, (px - panel.left) / panel.width));
    return Math.round(u * this.data.steps);
  }

  showReadout() {
    const hover = this.hoverStep !== null;
    const step = hover ? this.hoverStep : this.raceStep;
    const label = hover ? `step ${step} (pointer)` : `step ${step} / ${this.data.steps}`;
    if (this.stepLabel.textContent !== label) this.stepLabel.textContent = label;
    const [lossAxis] = this.data.axes;
    const lossName = lossAxis.log ? "f − f*" : "f";
    this.data.curves.forEach((curve, k) => {
      const [loss, distance] = curve.values.map((values, panel) => this.valueAt(values, panel, step));
      const text = `${lossName} ${formatValue(loss)} · distance ${formatValue(distance)}`;
      if (this.valueSpans[k].textContent !== text) this.valueSpans[k].textContent = text;
    });
  }

  // A curve's value (not its log) at `step`, NaN where the curve has a gap.
  valueAt(values, panel, step) {
    const v = values[Math.min(step, values.length - 1)];
    return this.data.axes[panel].log ? (Number.isFinite(v) ? 10 ** v : NaN) : v;
  }

  // --- layout ----------------------------------------------------------------------------------

  computeLayout() {
    const width = this.root.clientWidth;
    if (!width || !this.data) return null;
    const scale = this.presenter ? 1.5 : 1;
    const font = Math.round(12 * scale);
    const stacked = width < NARROW_PX;
    const cols = stacked ? 1 : 2;
    const gap = stacked ? Math.round(10 * scale) : Math.round(28 * scale);
    const title = font + 8; // each panel's title above it
    const bottom = font * 2 + 12; // tick labels, then "step"
    const cellHeight = stacked ? Math.round(Math.max(180, this.height * 0.8)) : Math.max(160, this.height);
    const height = stacked ? cellHeight * 2 + gap : cellHeight;
    const cellWidth = (width - gap * (cols - 1)) / cols;
    const context = this.lines.getContext("2d");
    context.font = `${font}px sans-serif`;
    const panels = this.data.axes.map((axis, i) => {
      const innerHeight = cellHeight - title - bottom;
      const [low, high] = valueRange(this.data.curves.map((c) => c.values[i]), axis.log);
      const yTicks = ticks(low, high, Math.max(2, Math.floor(innerHeight / (font * 2.4))), axis.log);
      const labelWidth = Math.max(0, ...yTicks.map((t) => context.measureText(t.label).width));
      const left = Math.ceil(labelWidth + 8);
      // Room on the right for half the last step's label, centred under the panel's edge.
      const right = Math.ceil(context.measureText(String(this.data.steps)).width / 2 + 4);
      const col = stacked ? 0 : i;
      const row = stacked ? i : 0;
      const panel = {
        axis,
        low,
        high,
        yTicks,
        left: Math.round(col * (cellWidth + gap) + left),
        top: Math.round(row * (cellHeight + gap) + title),
        width: Math.max(20, Math.round(cellWidth - left - right)),
        height: Math.max(20, innerHeight),
      };
      const steps = Math.max(1, this.data.steps);
      const xStep = Math.max(1, niceStep(steps, Math.max(2, Math.floor(panel.width / (font * 5)))));
      panel.xTicks = [];
      for (let s = 0; s <= steps; s += xStep) panel.xTicks.push(s);
      return panel;
    });
    // Presenter mode, as optviz.plotting.presenter_style: type half as large again, lines twice as thick.
    const thick = this.presenter ? 2 : 1;
    return { width, height, panels, font, scale, thick, dpr: window.devicePixelRatio || 1 };
  }

  toPixels(panel, step, value) {
    const x = panel.left + (step / Math.max(1, this.data.steps)) * panel.width;
    const y = panel.top + (1 - (value - panel.low) / (panel.high - panel.low)) * panel.height;
    return [x, y];
  }

  // --- drawing ---------------------------------------------------------------------------------

  request(lines) {
    if (lines) this.linesDirty = true;
    if (this.frameRequest === null && !this.destroyed) {
      this.frameRequest = requestAnimationFrame(() => this.frame());
    }
  }

  frame() {
    this.frameRequest = null;
    if (!this.root.isConnected || !this.data) return;
    if (!this.layout) {
      this.layout = this.computeLayout();
      if (!this.layout) return;
      const { width, height, dpr } = this.layout;
      this.panelsBox.style.height = `${height}px`;
      for (const canvas of [this.lines, this.cursor]) {
        canvas.width = Math.round(width * dpr);
        canvas.height = Math.round(height * dpr);
      }
      this.linesDirty = true;
    }
    if (this.linesDirty) this.drawLines();
    this.linesDirty = false;
    this.drawCursor();
    this.showReadout();
  }

  drawLines() {
    const { dpr, panels, font, thick } = this.layout;
    const context = this.lines.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.lines.width, this.lines.height);
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.font = `${font}px sans-serif`;
    panels.forEach((panel, i) => {
      const right = panel.left + panel.width;
      const bottom = panel.top + panel.height;
      // Grid lines at the ticks, then the axes' frame.
      context.strokeStyle = "#e4e6ea";
      context.lineWidth = 1;
      context.beginPath();
      for (const tick of panel.yTicks) {
        const y = Math.round(this.toPixels(panel, 0, tick.at)[1]) + 0.5;
        context.moveTo(panel.left, y);
        context.lineTo(right, y);
      }
      for (const s of panel.xTicks) {
        const x = Math.round(this.toPixels(panel, s, panel.low)[0]) + 0.5;
        context.moveTo(x, panel.top);
        context.lineTo(x, bottom);
      }
      context.stroke();
      context.strokeStyle = "#888";
      context.strokeRect(panel.left + 0.5, panel.top + 0.5, panel.width - 1, panel.height - 1);
      context.fillStyle = "#444";
      context.textAlign = "right";
      context.textBaseline = "middle";
      for (const tick of panel.yTicks) context.fillText(tick.label, panel.left - 5, this.toPixels(panel, 0, tick.at)[1]);
      context.textAlign = "center";
      context.textBaseline = "top";
      for (const s of panel.xTicks) context.fillText(String(s), this.toPixels(panel, s, panel.low)[0], bottom + 4);
      context.fillText("step", panel.left + panel.width / 2, bottom + font + 8);
      context.textBaseline = "bottom";
      context.fillStyle = "#262730";
      context.fillText(panel.axis.title, panel.left + panel.width / 2, panel.top - 3);
      // The curves, clipped to the panel; a non-finite value breaks the line.
      context.save();
      context.beginPath();
      context.rect(panel.left, panel.top, panel.width, panel.height);
      context.clip();
      context.lineJoin = "round";
      context.lineCap = "round";
      context.lineWidth = 2 * thick;
      for (const curve of this.data.curves) {
        const values = curve.values[i];
        context.strokeStyle = curve.colour;
        context.beginPath();
        let drawing = false;
        for (let s = 0; s < values.length; s++) {
          if (!Number.isFinite(values[s])) {
            drawing = false;
            continue;
          }
          const [x, y] = this.toPixels(panel, s, values[s]);
          if (drawing) context.lineTo(x, y);
          else context.moveTo(x, y);
          drawing = true;
        }
        context.stroke();
      }
      context.restore();
    });
  }

  drawCursor() {
    const { dpr, panels, scale } = this.layout;
    const context = this.cursor.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.cursor.width, this.cursor.height);
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    const marks = [{ step: this.raceStep, colour: "#262730", width: 1.5 * scale, dash: [], radius: 4.5 * scale }];
    if (this.hoverStep !== null && this.hoverStep !== this.raceStep) {
      marks.push({ step: this.hoverStep, colour: "#777", width: 1 * scale, dash: [4, 3], radius: 3 * scale });
    }
    panels.forEach((panel, i) => {
      for (const mark of marks) {
        const [x] = this.toPixels(panel, mark.step, panel.low);
        context.beginPath();
        context.moveTo(x, panel.top);
        context.lineTo(x, panel.top + panel.height);
        context.setLineDash(mark.dash);
        context.lineWidth = mark.width;
        context.strokeStyle = mark.colour;
        context.stroke();
        context.setLineDash([]);
        for (const curve of this.data.curves) {
          const v = curve.values[i][Math.min(mark.step, curve.values[i].length - 1)];
          if (!Number.isFinite(v)) continue;
          const [, y] = this.toPixels(panel, mark.step, v);
          if (y < panel.top - 1 || y > panel.top + panel.height + 1) continue;
          context.beginPath();
          context.arc(x, y, mark.radius, 0, 2 * Math.PI);
          context.fillStyle = curve.colour;
          context.fill();
          context.lineWidth = 1.5 * scale;
          context.strokeStyle = "#fff";
          context.stroke();
        }
      }
    });
  }

  destroy() {
    this.destroyed = true;
    this.resizeObserver.disconnect();
    window.removeEventListener("optviz-race-step", this.onRaceStep);
    if (this.frameRequest !== null) cancelAnimationFrame(this.frameRequest);
  }
}

export default (component) => mountOnce(component, RaceCurves); // canvas_kit.js
