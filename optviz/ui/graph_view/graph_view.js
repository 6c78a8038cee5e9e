// The computation graph and the output against x, on one canvas: the plot beside the graph where
// both fit, else under it; on a phone the graph runs top to bottom. Presenter mode: text a quarter
// larger.
//
// Everything written comes from the data (optviz/mlp/graph_data.py) as text, drawn with fillText:
// never read as markup. Each node is a box (its name and operation, its value in blue and, after
// backward(), its gradient in vermillion); an arrow runs from each input to the operation using it.
// The plot draws the output's curve, the tangent at x (dashed, the gradient's colour) and the point.

const NARROW_PX = 600;
const TEXT = "#262730";
const GREY = "#555";
const GRID = "#e6e6e6";
const ARROW = "#777";
const BOX_FILL = "#f7f7f7";
const ROW_PX = 92; // a row of nodes
const PLOT_PX = 300;
const PLOT_MIN_PX = 300; // the plot's width beside the graph, at least
const TEXT_PX = 16;
const LINE_PX = 21; // a line of text in a node's box

function tickLabel(value) {
  return String(Number(value.toPrecision(6)) + 0); // no float noise, no "-0"
}

// The view as words, for a screen reader (and a test): every node's lines, then the tangent.
function describe(data) {
  const nodes = data.nodes.map((n) => [n.title, n.value, n.grad].filter(Boolean).join(", "));
  return `Computation graph: ${nodes.join("; ")}. Plot of ${data.labels.output} against x, ${data.labels.tangent}.`;
}

class GraphView {
  constructor(parent) {
    this.root = parent.querySelector(".optviz-graph");
    this.canvas = this.root.querySelector(".optviz-graph__canvas");
    this.data = null;
    this.revision = 0;
    // For tests: where each node's box and the plot are drawn, in CSS px from the canvas's top-left.
    this.root.layout = () => this.layout;
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this.root);
    document.fonts.ready.then(() => this.draw()); // a canvas drawn before the page's font loaded
  }

  update(data) {
    if (!data) return;
    this.data = data;
    this.textScale = data.presenter ? 1.25 : 1;
    this.revision += 1;
    this.root.dataset.revision = String(this.revision);
    this.root.setAttribute("aria-label", describe(data));
    this.draw();
  }

  font(px, weight = "normal") {
    return `${weight} ${Math.round(px * 10) / 10}px "Source Sans", sans-serif`;
  }

  // --- layout ----------------------------------------------------------------------------------

  // The graph's columns left to right with the plot beside it ("beside") or, when the boxes would
  // have to shrink by more than a fifth to leave the plot room, under it ("stacked"). Narrow (a
  // phone): the graph turned a quarter, its columns top to bottom with the inputs in a row at the
  // top, and the plot under it ("turned").
  computeLayout(context, width) {
    const { nodes } = this.data;
    const columns = 1 + Math.max(...nodes.map((n) => n.column));
    const rows = 1 + 2 * Math.max(...nodes.map((n) => Math.abs(n.height)));
    const plotHeight = PLOT_PX * this.textScale;
    const lines = nodes.map((n) => [n.title, n.value, n.grad].filter(Boolean));
    const fullPx = TEXT_PX * this.textScale;
    context.font = this.font(fullPx, "bold");
    const widest = Math.max(...lines.flat().map((line) => context.measureText(line).width));
    const needed = columns * (widest + 48); // the graph's width with its text at full size
    const besidePlot = width - 24 - PLOT_MIN_PX * this.textScale;
    let mode = "stacked";
    if (width < NARROW_PX) mode = "turned";
    else if (besidePlot >= 0.8 * needed) mode = "beside";
    const graphWidth = mode === "beside" ? Math.max(Math.min(needed, besidePlot), width / 2) : width;
    // One text size for every box, as large as the widest line lets it be in its slot.
    const slotWidth = mode === "turned" ? width / rows : graphWidth / columns;
    const textPx = Math.max(10, Math.min(fullPx, (fullPx * (slotWidth * 0.9 - 12)) / widest));
    const lineHeight = (LINE_PX / TEXT_PX) * textPx;
    const boxWidth = (widest * textPx) / fullPx + 12;
    const boxHeight = (n) => lines[n].length * lineHeight + 10;
    const tallest = Math.max(...lines.map((_, n) => boxHeight(n)));
    const rowPx = mode === "turned" ? tallest + 36 : ROW_PX * this.textScale;
    const graphHeight = { beside: Math.max(rows * rowPx, plotHeight), stacked: rows * rowPx, turned: columns * rowPx }[mode];
    const boxes = nodes.map((n, i) => ({
      x: mode === "turned" ? width / 2 - n.height * slotWidth : (n.column + 0.5) * slotWidth,
      y: mode === "turned" ? (n.column + 0.5) * rowPx : graphHeight / 2 - n.height * rowPx,
      width: boxWidth,
      height: boxHeight(i),
      lines: lines[i],
    }));
    const plot = mode === "beside"
      ? { left: graphWidth + 24, top: 0, width: width - graphWidth - 24, height: graphHeight }
      : { left: 0, top: graphHeight + 12, width, height: plotHeight };
    return { width, height: plot.top + plot.height, mode, textPx, lineHeight, boxes, plot };
  }

  // --- drawing ---------------------------------------------------------------------------------

  draw() {
    if (!this.data) return;
    const width = this.root.clientWidth;
    if (!width) return;
    const layout = this.computeLayout(this.canvas.getContext("2d"), width); // measures the text
    this.layout = layout;
    const context = fitCanvas(this.canvas, width, layout.height); // canvas_kit.js
    this.drawGraph(context, layout);
    this.drawPlot(context, layout.plot);
  }

  drawGraph(context, layout) {
    const { boxes, textPx, lineHeight } = layout;
    const { colours } = this.data;
    context.strokeStyle = ARROW;
    context.fillStyle = ARROW;
    context.lineWidth = 1.5 * this.textScale;
    for (const [from, to] of this.data.edges) {
      const a = boxes[from];
      const b = boxes[to];
      const head = 9 * this.textScale;
      if (layout.mode === "turned") arrow(context, a.x, a.y + a.height / 2, b.x, b.y - b.height / 2 - 2, head);
      else arrow(context, a.x + a.width / 2, a.y, b.x - b.width / 2 - 2, b.y, head);
    }
    const lineColours = [TEXT, colours.value, colours.gradient];
    context.textAlign = "center";
    context.textBaseline = "middle";
    for (const box of boxes) {
      const left = box.x - box.width / 2;
      const top = box.y - box.height / 2;
      context.beginPath();
      context.roundRect(left, top, box.width, box.height, 6);
      context.fillStyle = BOX_FILL;
      context.fill();
      context.strokeStyle = GREY;
      context.lineWidth = 1.5;
      context.stroke();
      box.lines.forEach((line, i) => {
        context.font = this.font(textPx, i === 0 ? "bold" : "normal");
        context.fillStyle = lineColours[i];
        context.fillText(line, box.x, top + 5 + (i + 0.5) * lineHeight);
      });
    }
  }

  drawPlot(context, box) {
    const { curve, point, labels, colours } = this.data;
    const textPx = 14 * this.textScale;
    context.font = this.font(textPx);
    const left = box.left + 3.4 * textPx;
    const right = box.left + box.width - 8;
    const legend = legendItems(context, [[labels.output, colours.value, []], [labels.tangent, colours.gradient, [6, 4]]],
      left, right, box.top + textPx, 1.6 * textPx);
    const legendBottom = Math.max(...legend.map((item) => item.y)) + textPx;
    const area = { left, top: legendBottom + 8, right, bottom: box.top + box.height - 2.6 * textPx };
    const [x0, x1] = [curve.x[0], curve.x[curve.x.length - 1]];
    let [y0, y1] = [Math.min(...curve.y), Math.max(...curve.y)];
    const pad = y1 > y0 ? 0.08 * (y1 - y0) : 1;
    [y0, y1] = [y0 - pad, y1 + pad];
    const px = (x) => area.left + ((x - x0) / (x1 - x0)) * (area.right - area.left);
    const py = (y) => area.bottom - ((y - y0) / (y1 - y0)) * (area.bottom - area.top);
    box.xRange = [x0, x1];
    box.yRange = [y0, y1];
    box.area = area;

    context.lineWidth = 1;
    context.fillStyle = GREY;
    const xStep = niceStep(x1 - x0, 6);
    context.textAlign = "center";
    context.textBaseline = "top";
    for (let x = Math.ceil(x0 / xStep) * xStep; x <= x1 + 1e-9; x += xStep) {
      gridLine(context, px(x), area.top, px(x), area.bottom);
      context.fillText(tickLabel(x), px(x), area.bottom + 4);
    }
    const yStep = niceStep(y1 - y0, 6);
    context.textAlign = "right";
    context.textBaseline = "middle";
    for (let y = Math.ceil(y0 / yStep) * yStep; y <= y1 + 1e-9; y += yStep) {
      gridLine(context, area.left, py(y), area.right, py(y));
      context.fillText(tickLabel(y), area.left - 6, py(y));
    }
    context.textAlign = "center";
    context.textBaseline = "bottom";
    context.fillText("x", (area.left + area.right) / 2, box.top + box.height);
    context.save();
    context.translate(box.left + 2, (area.top + area.bottom) / 2);
    context.rotate(-Math.PI / 2);
    context.textBaseline = "top";
    context.fillText(labels.output, 0, 0);
    context.restore();

    context.save();
    context.beginPath();
    context.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    context.clip();
    context.beginPath();
    curve.x.forEach((x, i) => (i ? context.lineTo(px(x), py(curve.y[i])) : context.moveTo(px(x), py(curve.y[i]))));
    context.strokeStyle = colours.value;
    context.lineWidth = 3 * this.textScale;
    context.stroke();
    const reach = (x1 - x0) / 4;
    context.beginPath();
    context.moveTo(px(point.x - reach), py(point.y - point.slope * reach));
    context.lineTo(px(point.x + reach), py(point.y + point.slope * reach));
    context.setLineDash([8, 5]);
    context.strokeStyle = colours.gradient;
    context.lineWidth = 2 * this.textScale;
    context.stroke();
    context.setLineDash([]);
    context.beginPath();
    context.arc(px(point.x), py(point.y), 6 * this.textScale, 0, 2 * Math.PI);
    context.fillStyle = colours.gradient;
    context.fill();
    context.restore();

    // The legend, above the plot: the curve's name, then the tangent's.
    context.textAlign = "left";
    context.textBaseline = "middle";
    context.fillStyle = TEXT;
    for (const { label, colour, dash, x, y } of legend) {
      context.beginPath();
      context.moveTo(x, y);
      context.lineTo(x + 24, y);
      context.setLineDash(dash);
      context.strokeStyle = colour;
      context.lineWidth = 3;
      context.stroke();
      context.setLineDash([]);
      context.fillText(label, x + 30, y);
    }
  }

  destroy() {
    this.resizeObserver.disconnect();
  }
}

// Where each legend item ([label, colour, dash]) goes: in a row from `left`, a new line (`lineGap`
// lower) when the next would pass `right`. Measured in the context's current font.
function legendItems(context, items, left, right, top, lineGap) {
  let [x, y] = [left, top];
  return items.map(([label, colour, dash]) => {
    const width = 30 + context.measureText(label).width;
    if (x > left && x + width > right) [x, y] = [left, y + lineGap];
    const item = { label, colour, dash, x, y };
    x += width + 18;
    return item;
  });
}

function gridLine(context, xa, ya, xb, yb) {
  context.save();
  context.strokeStyle = GRID;
  context.beginPath();
  context.moveTo(xa, ya);
  context.lineTo(xb, yb);
  context.stroke();
  context.restore();
}

// A line from (xa, ya) to (xb, yb) ending in a filled arrowhead `head` px long.
function arrow(context, xa, ya, xb, yb, head) {
  const angle = Math.atan2(yb - ya, xb - xa);
  context.beginPath();
  context.moveTo(xa, ya);
  context.lineTo(xb - head * 0.8 * Math.cos(angle), yb - head * 0.8 * Math.sin(angle));
  context.stroke();
  context.beginPath();
  context.moveTo(xb, yb);
  context.lineTo(xb - head * Math.cos(angle - 0.4), yb - head * Math.sin(angle - 0.4));
  context.lineTo(xb - head * Math.cos(angle + 0.4), yb - head * Math.sin(angle + 0.4));
  context.closePath();
  context.fill();
}

export default (component) => mountOnce(component, GraphView); // canvas_kit.js
