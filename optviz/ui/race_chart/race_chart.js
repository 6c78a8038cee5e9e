// The live race chart: the optimizers' paths growing over a contour map, drawn on two canvases.
//
// Streamlit calls the default export with new `data` on every page run, with the same DOM element:
// one RaceChart lives per element and takes each new race into the drawing it already has, so the
// step and the play state survive a change (paused at step 120, change beta: the new paths show at
// step 120). The background canvas holds what changes once per surface and size (the banded map,
// its band edges, axes, colour bar, landmarks); the foreground one is redrawn each animation frame
// (trails, heads, start marker), at most once per display frame.
//
// Dragging the start asks the server for the race from each new position. While the drag goes on,
// the chart asks the server's race route over HTTP (data.route, with data.token naming the race's
// settings; optviz/lab/race_requests.py says why): the answer is the race without its map. The
// release, a click, and every position when the route cannot answer (an unknown token, a network
// error) go to Python as component state ({x, y, seq, final}) instead, and the page answers with a
// race whose data.answer is the seq it was computed for. Both kinds share one seq counter. At most
// two requests are in flight, so the server is never idle during a drag and never more than one
// answer behind (Streamlit, too, runs a fragment's queued reruns one after another, folding them
// into the latest); a further position waits here until an answer comes. An answer older than one
// already drawn is never drawn.
//
// The chart's own hyperparameter sliders (TuningPanel, under "Tune η") race the same way: each move
// asks the race route with the values set (named as in a link, hp_adam_lr=...) from the current
// start, and the page hears of them (component state {values, seq}) once they have rested for
// TUNE_SETTLE_MS, or before a start goes to the page: one page run for a whole drag of a slider, and
// the sidebar, the tabs and the link follow it. Until the page answers, every request carries them.
// The sidebar's sliders of the hyperparameters, the steps and the noise race the same way
// (watchSidebarSliders): Streamlit's own sliders, made with on_change="ignore", so that moving one
// runs nothing on the server; the page's run at rest takes the slider's value with it.

const FRAME_CAP_MS = 1000; // a longer gap (a hidden tab) does not jump the race forward
const IN_FLIGHT_TIMEOUT_MS = 3000; // an answer this late is given up on: the next position goes out
const MAX_IN_FLIGHT = 2; // requests sent and not yet answered (see above)
const DRAG_RADIUS_PX = { mouse: 14, pen: 16, touch: 26 };
const CLICK_SLOP_PX = 6;
const SPEED_CHOICES = [5, 10, 20, 50, 100, 200, 500];
const WINDOW_MARGIN_PX = 8; // below a chart fitted to the window
const TUNE_SETTLE_MS = 600; // the chart's sliders at rest this long: the page takes their values

// The chart's own hyperparameter sliders: one racing optimizer's at a time (a choice of which), each a
// native range input over the sidebar's stops, so keyboard, touch and screen readers work as on any
// slider. The page sends every hyperparameter slider of the sidebar ({label, colour, sliders: [{key,
// symbol, description, value, row, stops}]} per optimizer; the stops with a page's run only: kept
// here) and its race-wide ones ([{key, value, stops or numeric}]); the row shows those marked `row`;
// a move calls onMove(key, value). Rebuilt only when the optimizers or stops change.
class TuningPanel {
  constructor(panel, toggle, onMove) {
    this.panel = panel;
    this.toggle = toggle;
    this.choice = panel.querySelector(".optviz-race__tune-optimizer");
    this.sliders = panel.querySelector(".optviz-race__tune-sliders");
    this.onMove = onMove;
    this.tuning = [];
    this.stops = new Map(); // a slider's key -> its stops, as last sent
    this.values = new Map(); // a slider's key -> its value, as last sent
    this.numeric = new Set(); // the keys of numeric sliders (a position is the value, not a stop's index)
    this.tuned = {}; // values set on the chart (RaceChart.tuned), not yet taken by the page
    this.key = null;
    this.toggle.addEventListener("click", () => this.setOpen(this.panel.hidden));
    this.choice.addEventListener("change", () => this.showSliders());
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    this.toggle.textContent = open ? "Tune η ▾" : "Tune η ▸";
  }

  // The page's sliders; `tuned` holds values set here that the page has not taken yet.
  update(tuning, raceSliders, tuned, offered) {
    this.toggle.hidden = !offered || !tuning.length;
    if (this.toggle.hidden) this.setOpen(false);
    for (const slider of [...tuning.flatMap((t) => t.sliders), ...raceSliders]) {
      if (slider.stops) this.stops.set(slider.key, slider.stops);
      if (slider.numeric) this.numeric.add(slider.key);
      this.values.set(slider.key, slider.value);
    }
    // A slider whose stops never came (a chart drawn anew by a change: the next page run sends them).
    this.tuning = tuning.map((t) => ({ ...t, sliders: t.sliders.filter((s) => s.row && this.stops.has(s.key)) }));
    this.tuned = tuned;
    const key = JSON.stringify(this.tuning.map((t) => [t.label, t.colour, t.sliders.map((s) => [s.key, this.stops.get(s.key)])]));
    if (key !== this.key) {
      this.key = key;
      const chosen = this.choice.selectedOptions[0]?.text; // the same optimizer stays chosen
      this.choice.replaceChildren(...this.tuning.map((t, i) => new Option(t.label, String(i)))); // text, never markup
      this.choice.value = String(Math.max(0, this.tuning.findIndex((t) => t.label === chosen)));
      this.showSliders();
    } else {
      this.showValues();
    }
  }

  showSliders() {
    const optimizer = this.tuning[Number(this.choice.value)];
    this.choice.style.setProperty("--colour", optimizer?.colour ?? "#888");
    this.sliders.replaceChildren(...(optimizer?.sliders ?? []).map((slider) => {
      const stops = this.stops.get(slider.key);
      const row = document.createElement("label");
      row.className = "optviz-race__tune-slider";
      row.title = slider.description;
      const input = document.createElement("input");
      input.type = "range";
      input.min = "0";
      input.max = String(stops.length - 1);
      input.step = "1";
      input.dataset.key = slider.key;
      input.setAttribute("aria-label", `${optimizer.label} ${slider.symbol} ${slider.description}`);
      const output = document.createElement("output");
      input.addEventListener("input", () => {
        const value = stops[Number(input.value)];
        this.show(input, output, value);
        this.onMove(slider.key, value);
      });
      row.append(slider.symbol, input, output);
      return row;
    }));
    this.showValues();
  }

  showValues() {
    const optimizer = this.tuning[Number(this.choice.value)];
    for (const row of this.sliders.children) {
      const [input, output] = [row.querySelector("input"), row.querySelector("output")];
      const slider = optimizer.sliders.find((s) => s.key === input.dataset.key);
      const stops = this.stops.get(slider.key);
      const value = this.valueOf(slider.key);
      const index = stops.indexOf(value);
      input.value = String(index >= 0 ? index : nearestIndex(stops, value));
      this.show(input, output, value);
    }
  }

  // A slider's value: set here and not yet taken by the page, or as the page sent it.
  valueOf(key) {
    return this.tuned[key] ?? this.values.get(key);
  }

  // The value at `position` of the sidebar's slider `key` (undefined if its stops never came).
  valueAt(key, position) {
    return this.numeric.has(key) ? position : this.stops.get(key)?.[position];
  }

  show(input, output, value) {
    const text = Number(value.toPrecision(4)).toString(); // as the sidebar shows it (4 significant digits)
    output.textContent = text;
    input.setAttribute("aria-valuetext", text);
  }
}

// Calls onMove(key, position) when a slider of the page's moves: Streamlit draws one as a range input
// (its value: the index of a select slider's stop, or a numeric slider's value) and sets its
// aria-valuetext anew with each move (a key, a drag, a click on the track); the key is its
// element's st-key-<key> class. Returns what stops the watching.
function watchSidebarSliders(onMove) {
  const observer = new MutationObserver((records) => {
    for (const { target } of records) {
      if (target.type !== "range") continue;
      const classes = target.closest("[class*='st-key-']")?.classList ?? [];
      const key = [...classes].find((name) => name.startsWith("st-key-"))?.slice("st-key-".length);
      if (key) onMove(key, Number(target.value));
    }
  });
  observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["aria-valuetext"] });
  return () => observer.disconnect();
}

function nearestIndex(stops, value) {
  let best = 0;
  stops.forEach((stop, i) => { if (Math.abs(stop - value) < Math.abs(stops[best] - value)) best = i; });
  return best;
}

function decodeUint16(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Uint16Array(bytes.buffer);
}

function parseColour(text) {
  const hex = text.trim();
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function tickLabel(value, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (Math.abs(value) < step / 2 ? 0 : value).toFixed(digits);
}

// An X of half-width r centred on (x, y), as the context's path: where a run left the map.
function crossPath(context, x, y, r) {
  context.beginPath();
  context.moveTo(x - r, y - r);
  context.lineTo(x + r, y + r);
  context.moveTo(x + r, y - r);
  context.lineTo(x - r, y + r);
}

class RaceChart {
  constructor(parent) {
    this.root = parent.querySelector(".optviz-race");
    const find = (name) => this.root.querySelector(`.optviz-race__${name}`);
    this.legend = find("legend");
    this.maps = find("maps");
    this.background = find("background");
    this.foreground = find("foreground");
    this.playButton = find("play");
    this.scrubber = find("scrubber");
    this.stepLabel = find("step");
    this.speedSelect = find("speed");
    this.wholeBox = find("whole");
    this.note = find("note");
    this.tuningPanel = new TuningPanel(find("tune"), find("tune-toggle"), (key, value) => this.tune(key, value));

    this.step = 0; // fractional: the heads move smoothly between steps
    this.playing = false;
    this.speed = 50; // steps per second
    this.speedFromPage = null;
    this.revision = 0;
    this.drawnSignature = null;
    this.legendKey = null; // what the legend shows (renderLegend)
    this.drawnAnswer = -1;
    this.surfaceId = null;
    this.race = null; // {steps, start, paths: [{label, colour, xy, divergedAt}]}
    this.layout = null; // panels and sizes, from the element's size
    this.presenter = false;
    this.panelsMode = false;
    this.equalScale = false;
    this.height = 520;

    this.tuned = {}; // hyperparameters set on the chart's sliders that the page has not taken yet
    this.tuneSent = null; // {seq, values} of the last ones sent to the page
    this.tuneSettle = null; // the timer that sends them (TUNE_SETTLE_MS)
    this.epoch = null; // the page's count of the times it set the sliders itself (data.epoch)
    this.seq = 0; // the last drag/click request sent (to the route or the page)
    this.route = null; // {path, token} of the server's race route, or null (unusable)
    this.routeFailed = null; // the token the route failed for: not asked again for those settings
    this.inFlight = []; // [{seq, at}] of the requests not yet answered
    this.pending = null; // the latest position not yet sent
    this.localStart = null; // the start while dragging (ahead of the server's answer)
    this.pointer = null; // {id, kind, dragging, downX, downY}
    this.lastTime = null;
    this.frameRequest = null;
    this.dirty = true;
    this.destroyed = false;
    this.autoplay = false; // the link asks it to play as soon as it is drawn and shown
    this.autoplayed = false;
    this.shown = true; // false while the slide it is in is hidden (watchSlide)

    // For tests and tools: the points of the path drawn for an optimizer (its label), or null; and
    // where a point (x, y) of the map is, in CSS px from this element's top-left (first panel).
    this.root.drawnPath = (label) => {
      const path = this.race?.paths.find((p) => p.label === label);
      return path ? Array.from(path.xy) : null;
    };
    this.root.pixelAt = (x, y) => {
      if (!this.layout) return null;
      const [px, py] = this.toPixels(this.layout.panels[0], [x, y]);
      return [px + this.layout.offset[0], py + this.layout.offset[1]];
    };
    // For pictures of the race (optviz/lab/export): show `step` paused and draw it now, without
    // waiting for a display frame.
    this.root.drawStep = (step) => {
      this.playing = false;
      this.step = Math.max(0, Math.min(this.race?.steps ?? 0, step));
      this.frame(performance.now());
    };
    this.listen();
    this.stopWatching = watchSlide(this.root, (shown) => this.setShown(shown));
    this.stopWatchingSidebar = watchSidebarSliders((key, position) => this.tuneFromSidebar(key, position));
    // A new width (or legend and controls of a new height) lays the chart out again; the height the
    // chart sets itself does not.
    this.resizeObserver = new ResizeObserver(() => {
      const fixed = this.root.offsetHeight - this.maps.offsetHeight;
      if (this.layout && this.root.clientWidth === this.layout.width && fixed === this.layout.fixed) return;
      this.layout = null;
      this.requestFrame();
    });
    this.resizeObserver.observe(this.root);
    // A window of another height fits the chart again.
    this.onWindowResize = () => {
      if (this.layout && window.innerHeight !== this.layout.window) {
        this.layout = null;
        this.requestFrame();
      }
    };
    window.addEventListener("resize", this.onWindowResize);
    // Content above the chart that changes height moves it, and the height fitted to the window
    // with it: a web font that arrives late rewraps the description above (the chart was 56 px too
    // short on a loaded machine). The page's block is watched; the chart lays out again only when
    // its fitted height differs.
    this.pageObserver = new ResizeObserver(() => {
      if (this.layout && this.fittedHeight() !== this.layout.fitted) {
        this.layout = null;
        this.requestFrame();
      }
    });
    this.pageObserver.observe(this.root.closest('[data-testid="stMainBlockContainer"]') ?? document.body);
  }

  // --- data from Python ------------------------------------------------------------------------

  update(data, setStateValue) {
    this.setStateValue = setStateValue;
    if (!data) return;
    // A recording (the exported page: no server to race a new start) does not take a start.
    this.interactive = data.interactive !== false;
    this.root.classList.toggle("optviz-race--recording", !this.interactive);
    const answer = data.answer ?? 0;
    // The page set the sliders itself (a reset, the tuner): the values set here and not sent are
    // forgotten (they would undo it once they rest), every answer still on its way is stale, and the
    // page's race is drawn.
    const pageSet = this.epoch !== null && data.epoch !== this.epoch;
    this.epoch = data.epoch;
    if (pageSet) {
      for (const key of Object.keys(this.tuned)) delete this.tuned[key];
      clearTimeout(this.tuneSettle);
      this.tuneSettle = this.tuneSent = null;
      this.drawnAnswer = Math.max(this.drawnAnswer, this.seq);
      this.inFlight = [];
    }
    this.inFlight = this.inFlight.filter((request) => request.seq > answer);
    if (this.tuneSent && answer >= this.tuneSent.seq) {
      // The page took them: its race and its token hold them now (unless moved again since).
      for (const [key, value] of Object.entries(this.tuneSent.values)) {
        if (this.tuned[key] === value) delete this.tuned[key];
      }
      this.tuneSent = null;
    }
    if (data.token !== this.route?.token && data.token !== this.routeFailed) {
      this.route = data.route && data.token ? { path: data.route, token: data.token } : null;
    }
    this.note.textContent = data.error ?? "";
    this.tuningPanel.update(data.tuning ?? [], data.raceSliders ?? [], this.tuned, this.interactive);
    const look = Boolean(data.presenter) !== this.presenter || Boolean(data.panels) !== this.panelsMode
      || Boolean(data.equalScale) !== this.equalScale || data.height !== this.height;
    this.autoplay = Boolean(data.autoplay);
    this.presenter = Boolean(data.presenter);
    this.panelsMode = Boolean(data.panels);
    this.equalScale = Boolean(data.equalScale);
    this.height = data.height ?? 520;
    this.root.classList.toggle("optviz-race--presenter", this.presenter);
    if (data.speed !== this.speedFromPage) {
      this.speedFromPage = data.speed;
      this.setSpeed(data.speed);
    }
    if (look) this.layout = null;
    // A stale answer (older than one drawn) never replaces a newer picture.
    if (data.race && (answer >= this.drawnAnswer || pageSet)) {
      this.drawnAnswer = Math.max(answer, this.drawnAnswer);
      this.takeRace(data.race);
    }
    if (this.autoplay && this.race && this.shown && !this.autoplayed) {
      this.autoplayed = true;
      this.setPlaying(true);
    }
    this.sendPending();
    this.requestFrame();
  }

  // A race from the page (with its map) or from the race route (race.surface null: same map).
  takeRace(race) {
    if (race.signature === this.drawnSignature) return;
    if (!race.surface && !this.surface) {
      // Paths for a map this element never got (it is new, and the page sent the paths alone): ask
      // for the map, which comes back with them. A time, so that every ask is a change of state.
      this.setStateValue?.("map_wanted", Date.now());
      return;
    }
    if (race.surface && race.surface.id !== this.surfaceId) {
      this.surfaceId = race.surface.id;
      this.surface = { ...race.surface, z: decodeUint16(race.surface.z) };
      this.layout = null;
    }
    const paths = race.paths.map((p) => ({
      name: p.name,
      label: p.label,
      colour: p.colour,
      marker: p.marker,
      xy: decodeFloat32(p.xy),
      divergedAt: p.diverged_at,
    }));
    if (paths.length !== this.race?.paths.length) this.layout = null;
    this.race = { steps: race.steps, start: race.start, paths };
    this.step = Math.min(this.step, race.steps);
    this.scrubber.max = String(race.steps);
    this.drawnSignature = race.signature;
    this.revision += 1;
    this.root.dataset.answer = String(this.drawnAnswer); // the request it answers (before revision:
    this.root.dataset.revision = String(this.revision); // a watcher of revision reads it current)
    this.root.dataset.signature = race.signature;
    this.root.dataset.start = race.start.join(",");
    if (!this.pointer?.dragging) this.localStart = null;
    this.renderLegend();
    this.pathPixels = null;
  }

  // The legend, rebuilt only when an entry changes (most changes, a learning rate say, change none).
  renderLegend() {
    const entries = this.panelsMode ? [] : this.race.paths; // in panels, each title names its optimizer
    const key = JSON.stringify(entries.map((p) => [p.label, p.colour, p.marker, p.divergedAt]));
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.replaceChildren();
    for (const path of entries) {
      const item = document.createElement("span");
      item.append(this.swatch(path), path.label); // text, never markup
      if (path.divergedAt != null) item.append(` (diverged at step ${path.divergedAt})`);
      this.legend.append(item);
    }
  }

  // A legend entry's picture: a stroke of the path's colour through its head's marker.
  swatch(path) {
    const [width, height] = [26, 16];
    const canvas = document.createElement("canvas");
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr;
    canvas.height = height * dpr;
    const context = canvas.getContext("2d");
    context.scale(dpr, dpr);
    context.strokeStyle = context.fillStyle = path.colour;
    context.lineWidth = 3;
    context.beginPath();
    context.moveTo(1, height / 2);
    context.lineTo(width - 1, height / 2);
    context.stroke();
    this.head(context, path, width / 2, height / 2, 5.5, 1.5);
    return canvas;
  }

  // A run's head: its optimizer's marker in its colour, ringed in white to stand out on the map.
  head(context, path, x, y, r, ring) {
    markerPath(context, path.marker, x, y, r); // canvas_kit.js
    context.fillStyle = path.colour;
    context.fill();
    context.lineWidth = ring;
    context.strokeStyle = "#fff";
    context.stroke();
  }

  setSpeed(speed) {
    this.speed = speed;
    const choices = [...new Set([...SPEED_CHOICES, speed])].sort((a, b) => a - b);
    this.speedSelect.replaceChildren(...choices.map((v) => new Option(String(v), String(v))));
    this.speedSelect.value = String(speed);
  }

  // --- the timeline --------------------------------------------------------------------------

  setPlaying(playing) {
    if (!this.race) return;
    if (playing && this.step >= this.race.steps) this.step = 0; // Play at the end starts again
    this.playing = playing;
    this.lastTime = null;
    this.showState(); // the hooks and controls change now, not at the next painted frame
    this.requestFrame();
  }

  goTo(step) {
    if (!this.race) return;
    this.step = Math.max(0, Math.min(this.race.steps, step));
    this.showState();
    this.requestFrame();
  }

  onKey(event) {
    if (controlKeepsKey(event) || event.target.closest?.(".optviz-race__tune")) return; // a slider's keys
    const paused = !this.playing;
    const jump = event.shiftKey ? 10 : 1;
    const here = this.shownStep(); // paused mid-way between two steps: from the one on screen
    const actions = {
      " ": () => this.setPlaying(!this.playing),
      ArrowLeft: () => { this.setPlaying(false); this.goTo(here - jump); },
      ArrowRight: () => { this.setPlaying(false); this.goTo(here + jump); },
      Home: () => this.goTo(0),
      End: () => { this.setPlaying(false); this.goTo(this.race?.steps ?? 0); },
      PageUp: () => paused && this.goTo(here - 1),
      PageDown: () => paused && this.goTo(here + 1),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    action();
  }

  // --- in a slide ------------------------------------------------------------------------------

  // In a slide (watchSlide, canvas_kit.js): pause while the slide is hidden and show the start again
  // when it comes back, playing from there if the link says autoplay. A page of its own keeps
  // playing when scrolled: its curves follow the race.
  setShown(shown) {
    if (shown === this.shown) return;
    this.shown = shown;
    this.root.dataset.shown = String(shown);
    if (!shown) {
      this.setPlaying(false);
      this.goTo(0);
    } else if (this.autoplay && this.race) {
      this.autoplayed = true;
      this.setPlaying(true);
    }
  }

  // --- input -----------------------------------------------------------------------------------

  listen() {
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.root.addEventListener("pointerdown", () => this.root.focus({ preventScroll: true }));
    this.playButton.addEventListener("click", () => this.setPlaying(!this.playing));
    this.scrubber.addEventListener("input", () => this.goTo(Number(this.scrubber.value)));
    this.speedSelect.addEventListener("change", () => { this.speed = Number(this.speedSelect.value); });
    this.wholeBox.addEventListener("change", () => this.requestFrame());
    // Others in the page can move the race (a click on the loss curves): pause there.
    this.onGoTo = (event) => {
      const step = Number(event.detail?.step);
      if (Number.isFinite(step)) { this.setPlaying(false); this.goTo(Math.round(step)); }
    };
    window.addEventListener("optviz-race-goto", this.onGoTo);
    const canvas = this.foreground;
    canvas.addEventListener("pointerdown", (e) => this.onPointerDown(e));
    canvas.addEventListener("pointermove", (e) => this.onPointerMove(e));
    canvas.addEventListener("pointerup", (e) => this.onPointerUp(e));
    canvas.addEventListener("pointercancel", (e) => this.onPointerUp(e));
  }

  canvasPoint(event) {
    const box = this.foreground.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  panelAt(px, py) {
    const panels = this.layout?.panels ?? [];
    return panels.find((p) => px >= p.left && px <= p.left + p.width && py >= p.top && py <= p.top + p.height);
  }

  onPointerDown(event) {
    if (!this.layout || !this.race || !this.interactive) return;
    const [px, py] = this.canvasPoint(event);
    const panel = this.panelAt(px, py);
    if (!panel) return;
    const [sx, sy] = this.toPixels(panel, this.currentStart());
    const radius = DRAG_RADIUS_PX[event.pointerType] ?? 14;
    const dragging = Math.hypot(px - sx, py - sy) <= radius;
    this.pointer = { id: event.pointerId, panel, dragging, downX: px, downY: py };
    this.foreground.setPointerCapture(event.pointerId);
    this.foreground.classList.toggle("optviz-race--dragging", dragging);
    event.preventDefault();
  }

  onPointerMove(event) {
    if (!this.layout || !this.interactive) return;
    const [px, py] = this.canvasPoint(event);
    if (!this.pointer || this.pointer.id !== event.pointerId) {
      const panel = this.panelAt(px, py);
      const over = panel && Math.hypot(...this.toPixels(panel, this.currentStart()).map((v, i) => v - [px, py][i])) <= 14;
      this.foreground.classList.toggle("optviz-race--over-start", Boolean(over));
      return;
    }
    if (!this.pointer.dragging) return;
    this.moveStart(this.pointer.panel, px, py, false);
  }

  onPointerUp(event) {
    const pointer = this.pointer;
    if (!pointer || pointer.id !== event.pointerId) return;
    this.pointer = null;
    this.foreground.classList.remove("optviz-race--dragging");
    if (event.type === "pointercancel") return;
    const [px, py] = this.canvasPoint(event);
    const moved = Math.hypot(px - pointer.downX, py - pointer.downY);
    if (pointer.dragging || moved <= CLICK_SLOP_PX) this.moveStart(pointer.panel, px, py, true);
  }

  // The start follows the pointer at once (clamped to the map); the server gets the position as
  // soon as nothing is in flight.
  moveStart(panel, px, py, final) {
    const [x, y] = this.toWorld(panel, px, py);
    this.localStart = [x, y];
    this.pending = { x, y, final };
    this.sendPending();
    this.requestFrame();
  }

  // A slider of the chart's own moved: race its value from the start shown now, and tell the page
  // once the sliders rest (at once when the route cannot answer: the page races it then).
  tune(key, value) {
    if (!this.race) return;
    this.tuned[key] = value;
    clearTimeout(this.tuneSettle);
    this.tuneSettle = setTimeout(() => this.sendTuned(), TUNE_SETTLE_MS);
    if (!this.route) {
      this.sendTuned();
      return;
    }
    const [x, y] = this.currentStart();
    this.pending = { x, y, final: false };
    this.sendPending();
  }

  // A move of a slider of the page's (watchSidebarSliders), raced as one of the chart's own if it is
  // one the page said the chart races; the row follows. One whose stops the chart lacks, or a move
  // before a race is drawn, goes to the page at once (its run takes the slider's value with it).
  tuneFromSidebar(key, position) {
    if (!this.tuningPanel.values.has(key)) return; // not one of the race's: it runs the page itself
    const value = this.tuningPanel.valueAt(key, position);
    if (value === undefined || !this.race || !this.interactive) {
      this.sendTuned(true);
    } else if (value !== this.tuningPanel.valueOf(key)) {
      this.tune(key, value);
      this.tuningPanel.showValues();
    }
  }

  // The values set here go to the page (and, `always`, a request for its run even without any).
  sendTuned(always = false) {
    clearTimeout(this.tuneSettle);
    this.tuneSettle = null;
    if ((!always && !Object.keys(this.tuned).length) || !this.setStateValue) return;
    this.seq = Math.max(this.seq, this.drawnAnswer) + 1;
    // With the signature of the race drawn: the page does not send that race again.
    this.tuneSent = { seq: this.seq, values: { ...this.tuned }, drawn: this.drawnSignature };
    this.inFlight.push({ seq: this.seq, at: performance.now() });
    this.setStateValue("tuned", this.tuneSent);
  }

  sendPending() {
    if (!this.pending || !this.setStateValue) return;
    const now = performance.now();
    this.inFlight = this.inFlight.filter((request) => now - request.at < IN_FLIGHT_TIMEOUT_MS);
    if (this.inFlight.length >= MAX_IN_FLIGHT) return;
    const { x, y, final } = this.pending;
    const toPage = final || !this.route;
    if (toPage && this.tuneSettle !== null) this.sendTuned(); // the page races the start with them
    this.seq = Math.max(this.seq, this.drawnAnswer) + 1;
    this.pending = null;
    this.inFlight.push({ seq: this.seq, at: now });
    if (toPage) this.setStateValue("start", { x, y, seq: this.seq, final });
    else this.askRoute(this.route, x, y, this.seq);
  }

  // A position of a drag in progress, asked of the race route; a failure sends it to the page
  // instead, and so does every later position of this race's settings.
  async askRoute(route, x, y, seq) {
    const query = new URLSearchParams({ token: route.token, x: String(x), y: String(y), seq: String(seq) });
    for (const [key, value] of Object.entries(this.tuned)) query.set(key, String(value));
    let race = null;
    try {
      const response = await fetch(`${route.path}?${query}`, { cache: "no-store" });
      if (response.ok) race = await response.json();
    } catch (error) {
      race = null; // the network: the page answers instead
    }
    this.inFlight = this.inFlight.filter((request) => request.seq !== seq);
    if (this.destroyed) return;
    if (!race) {
      this.routeFailed = route.token;
      if (this.route === route) this.route = null;
      if (!this.pending) this.pending = { x, y, final: false };
    } else if (seq > this.drawnAnswer && race.signature) {
      this.drawnAnswer = seq;
      this.takeRace(race);
    }
    this.sendPending();
    this.requestFrame();
  }

  currentStart() {
    return this.localStart ?? this.race.start;
  }

  // --- geometry --------------------------------------------------------------------------------

  computeLayout() {
    const width = this.root.clientWidth;
    if (!width || !this.race || !this.surface) return null;
    const scale = this.presenter ? 1.5 : 1;
    const narrow = width < 520;
    this.root.classList.toggle("optviz-race--narrow", narrow);
    const fixed = this.root.offsetHeight - this.maps.offsetHeight; // legend, controls, note
    const count = this.panelsMode ? this.race.paths.length : 1;
    const cols = Math.min(count, narrow ? 2 : 3);
    const rows = Math.ceil(count / cols);
    const font = Math.round(11 * scale);
    const colourBar = narrow ? 0 : Math.round(64 * scale);
    const left = Math.round(36 * scale);
    const bottom = Math.round(18 * scale);
    // Room above each map for its title, or for half the top tick label.
    const title = this.panelsMode ? Math.round(18 * scale) : Math.ceil(font / 2);
    const gap = this.panelsMode ? Math.round(10 * scale) : 0;
    const cellWidth = (width - colourBar - gap * (cols - 1)) / cols;
    // The page's height (fitted to the window), less the controls; on a phone, maps about as tall
    // as they are wide.
    const fitted = this.fittedHeight();
    let height = Math.max(160, fitted - fixed);
    if (narrow) height = rows * Math.round((cellWidth - left) * 0.9 + title) + bottom + gap * (rows - 1);
    // The x tick labels go once, under the last row (the axes are shared).
    const cellHeight = (height - bottom - gap * (rows - 1)) / rows;
    const panels = [];
    for (let i = 0; i < count; i++) {
      const col = i % cols;
      const row = Math.floor(i / cols);
      const cellLeft = col * (cellWidth + gap);
      const cellTop = row * (cellHeight + gap);
      panels.push({
        left: Math.round(cellLeft + left),
        top: Math.round(cellTop + title + 2),
        width: Math.max(20, Math.round(cellWidth - left - 6)),
        height: Math.max(20, Math.round(cellHeight - title - 2)),
        members: this.panelsMode ? [i] : this.race.paths.map((_, k) => k),
        title: this.panelsMode ? this.race.paths[i].label : null,
        showY: col === 0,
        showX: row === rows - 1 || i + cols >= count,
      });
    }
    if (this.equalScale) height = this.onOneScale(panels, cols, title, gap) + bottom;
    // Presenter mode, as optviz.plotting.presenter_style: type and markers half as large again, paths
    // twice as thick.
    const thick = this.presenter ? 2 : 1;
    const dpr = window.devicePixelRatio || 1;
    return { width, height, fitted, fixed, panels, font, scale, thick, colourBar, dpr, window: window.innerHeight };
  }

  // The height the page asks for, lowered so that the whole chart, Play included, shows in the window
  // with the page scrolled to the top (a 1280 x 720 projector), but not below 60% of the window: a
  // chart further down fits the window once scrolled to. A recording keeps its height.
  fittedHeight() {
    if (!this.interactive) return this.height;
    let scroller = this.root.parentElement;
    while (scroller && !/auto|scroll/.test(getComputedStyle(scroller).overflowY)) scroller = scroller.parentElement;
    const top = this.root.getBoundingClientRect().top + (scroller?.scrollTop ?? 0) + window.scrollY;
    const screen = window.innerHeight;
    const room = screen - top - WINDOW_MARGIN_PX;
    return Math.round(Math.min(this.height, room >= 0.6 * screen ? room : screen - WINDOW_MARGIN_PX));
  }

  // Equal scales: each panel shrunk on one side to the window's shape (as many pixels per unit on x
  // as on y), centred across its cell, the rows stacked again at the maps' height. Returns the
  // maps' height, the x tick labels' room not included.
  onOneScale(panels, cols, title, gap) {
    const [[x0, x1], [y0, y1]] = this.surface.bounds;
    const perUnit = Math.min(panels[0].width / (x1 - x0), panels[0].height / (y1 - y0));
    const width = Math.round(perUnit * (x1 - x0));
    const height = Math.round(perUnit * (y1 - y0));
    const row = title + 2 + height;
    panels.forEach((panel, i) => {
      panel.left += Math.round((panel.width - width) / 2);
      panel.top = Math.floor(i / cols) * (row + gap) + title + 2;
      panel.width = width;
      panel.height = height;
    });
    const rows = Math.ceil(panels.length / cols);
    return rows * row + gap * (rows - 1);
  }

  toPixels(panel, [x, y]) {
    const [[x0, x1], [y0, y1]] = this.surface.bounds;
    return [panel.left + ((x - x0) / (x1 - x0)) * panel.width, panel.top + ((y1 - y) / (y1 - y0)) * panel.height];
  }

  toWorld(panel, px, py) {
    const [[x0, x1], [y0, y1]] = this.surface.bounds;
    const u = Math.max(0, Math.min(1, (px - panel.left) / panel.width));
    const v = Math.max(0, Math.min(1, (py - panel.top) / panel.height));
    return [x0 + u * (x1 - x0), y1 - v * (y1 - y0)];
  }

  // --- drawing ---------------------------------------------------------------------------------

  requestFrame() {
    this.dirty = true;
    if (this.frameRequest === null && !this.destroyed) {
      this.frameRequest = requestAnimationFrame((t) => this.frame(t));
    }
  }

  frame(time) {
    this.frameRequest = null;
    if (!this.root.isConnected) return;
    if (this.playing && this.race) {
      const dt = this.lastTime === null ? 0 : Math.min(time - this.lastTime, FRAME_CAP_MS);
      this.step = Math.min(this.race.steps, this.step + (this.speed * dt) / 1000);
      if (this.step >= this.race.steps) this.playing = false;
    }
    this.lastTime = this.playing ? time : null;
    if (!this.layout) {
      this.layout = this.computeLayout();
      if (this.layout) this.sizeCanvases();
    }
    if (this.layout) {
      if (!this.pathPixels) this.projectPaths();
      this.drawForeground();
    }
    this.showState();
    this.dirty = false;
    if (this.playing) this.requestFrame();
  }

  // The step on screen: while playing, `this.step` runs between whole steps.
  shownStep() {
    return Math.floor(this.step + 1e-9);
  }

  showState() {
    const step = this.shownStep();
    const dataset = this.root.dataset;
    if (dataset.step !== String(step)) {
      dataset.step = String(step);
      // Others in the page follow the race (the loss curves' cursor, optviz/ui/race_curves).
      window.dispatchEvent(new CustomEvent("optviz-race-step", { detail: { step } }));
    }
    const playing = String(this.playing);
    if (dataset.playing !== playing) {
      dataset.playing = playing;
      this.playButton.textContent = this.playing ? "❚❚ Pause" : "▶ Play";
    }
    if (this.scrubber.value !== String(step)) this.scrubber.value = String(step);
    const label = this.race ? `step ${step} / ${this.race.steps}` : "";
    if (this.stepLabel.textContent !== label) this.stepLabel.textContent = label;
    if (this.layout && this.race) {
      const [sx, sy] = this.toPixels(this.layout.panels[0], this.currentStart());
      const [offsetX, offsetY] = this.layout.offset;
      const startPx = `${(sx + offsetX).toFixed(1)},${(sy + offsetY).toFixed(1)}`;
      if (dataset.startPx !== startPx) dataset.startPx = startPx;
    }
  }

  sizeCanvases() {
    const { width, height, dpr } = this.layout;
    this.maps.style.height = `${height}px`;
    // Where the maps sit in the element, read once per layout (reading it each frame would make the
    // browser lay the page out again after every attribute change).
    this.layout.offset = [this.maps.offsetLeft, this.maps.offsetTop];
    for (const canvas of [this.background, this.foreground]) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    this.pathPixels = null;
    this.drawBackground();
  }

  projectPaths() {
    this.pathPixels = this.layout.panels.map((panel) =>
      panel.members.map((k) => {
        const xy = this.race.paths[k].xy;
        const out = new Float32Array(xy.length);
        const [[x0, x1], [y0, y1]] = this.surface.bounds;
        for (let i = 0; i < xy.length; i += 2) {
          out[i] = panel.left + ((xy[i] - x0) / (x1 - x0)) * panel.width;
          out[i + 1] = panel.top + ((y1 - xy[i + 1]) / (y1 - y0)) * panel.height;
        }
        return { pixels: out, ...this.ending(out, this.race.paths[k].divergedAt, panel) };
      }),
    );
  }

  // How far a path is drawn: a run that did not diverge, to its end. A diverged one to the first step
  // (up to its divergence) that leaves the map, with `exit` where that step crosses the edge
  // (p + t (q - p), the largest t in [0, 1] inside); if it never left (it became non-finite inside
  // the map), to its divergence step, with `exit` there. After that its numbers mean nothing.
  ending(pixels, divergedAt, panel) {
    const count = pixels.length / 2;
    if (divergedAt == null) return { end: count - 1, exit: null };
    const last = Math.min(divergedAt, count - 1);
    const right = panel.left + panel.width;
    const bottom = panel.top + panel.height;
    const inside = (i) => {
      const [x, y] = [pixels[2 * i], pixels[2 * i + 1]];
      return x >= panel.left && x <= right && y >= panel.top && y <= bottom;
    };
    for (let i = 1; i <= last; i++) {
      if (!inside(i - 1) || inside(i)) continue;
      const [px, py, qx, qy] = pixels.slice(2 * i - 2, 2 * i + 2);
      let t = 1;
      if (qx < panel.left) t = Math.min(t, (panel.left - px) / (qx - px));
      if (qx > right) t = Math.min(t, (right - px) / (qx - px));
      if (qy < panel.top) t = Math.min(t, (panel.top - py) / (qy - py));
      if (qy > bottom) t = Math.min(t, (bottom - py) / (qy - py));
      return { end: i, exit: [px + t * (qx - px), py + t * (qy - py)] };
    }
    return { end: last, exit: [pixels[2 * last], pixels[2 * last + 1]] };
  }

  // The banded map at device resolution: c interpolated bilinearly from the grid at each pixel,
  // band = floor((c - start) / size), coloured at the band's middle; a pixel whose band differs
  // from its left or upper neighbour is on a contour line.
  bandImage(context, panel) {
    const { dpr } = this.layout;
    const s = this.surface;
    const width = Math.round(panel.width * dpr);
    const height = Math.round(panel.height * dpr);
    const image = context.createImageData(width, height);
    const bands = new Int32Array(width * height);
    const { start, size } = s.levels;
    const count = Math.max(1, Math.ceil((s.zmax - start) / size));
    const scale = s.colorscale.map(([p, c]) => [Number(p), parseColour(c)]);
    const palette = [];
    for (let b = 0; b < count; b++) {
      const t = Math.min(1, Math.max(0, (b + 0.5) / count));
      let k = 0;
      while (k < scale.length - 2 && t > scale[k + 1][0]) k++;
      const [p0, c0] = scale[k];
      const [p1, c1] = scale[k + 1];
      const f = p1 > p0 ? (t - p0) / (p1 - p0) : 0;
      palette.push(c0.map((v, i) => v + f * (c1[i] - v)));
    }
    const line = this.presenter ? [0, 0, 0, 0.6] : [60, 60, 60, 0.35];
    const range = (s.zmax - s.zmin) / 65535;
    for (let py = 0; py < height; py++) {
      const v = (1 - (py + 0.5) / height) * (s.ny - 1);
      const i0 = Math.min(Math.floor(v), s.ny - 2);
      const fv = v - i0;
      for (let px = 0; px < width; px++) {
        const u = ((px + 0.5) / width) * (s.nx - 1);
        const j0 = Math.min(Math.floor(u), s.nx - 2);
        const fu = u - j0;
        const a = s.z[i0 * s.nx + j0];
        const b = s.z[i0 * s.nx + j0 + 1];
        const c = s.z[(i0 + 1) * s.nx + j0];
        const d = s.z[(i0 + 1) * s.nx + j0 + 1];
        const q = a * (1 - fv) * (1 - fu) + b * (1 - fv) * fu + c * fv * (1 - fu) + d * fv * fu;
        const band = Math.max(0, Math.min(count - 1, Math.floor((s.zmin + q * range - start) / size)));
        const index = py * width + px;
        bands[index] = band;
        let [r, g, bl] = palette[band];
        const edge = (px > 0 && bands[index - 1] !== band) || (py > 0 && bands[index - width] !== band);
        if (edge) {
          const alpha = line[3];
          r = (1 - alpha) * r + alpha * line[0];
          g = (1 - alpha) * g + alpha * line[1];
          bl = (1 - alpha) * bl + alpha * line[2];
        }
        image.data.set([r, g, bl, 255], index * 4);
      }
    }
    return { image, palette, start, size, count };
  }

  drawBackground() {
    const { dpr, panels, font, scale, width, height, colourBar } = this.layout;
    const context = this.background.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.background.width, this.background.height);
    const bands = this.bandImage(context, panels[0]);
    const [[x0, x1], [y0, y1]] = this.surface.bounds;
    const xStep = niceStep(x1 - x0, Math.max(2, Math.round(panels[0].width / 90)));
    const yStep = niceStep(y1 - y0, Math.max(2, Math.round(panels[0].height / 60)));
    for (const panel of panels) {
      context.putImageData(bands.image, Math.round(panel.left * dpr), Math.round(panel.top * dpr));
    }
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.font = `${font}px sans-serif`;
    for (const panel of panels) {
      context.fillStyle = "#444";
      context.strokeStyle = "#888";
      context.lineWidth = 1;
      context.strokeRect(panel.left + 0.5, panel.top + 0.5, panel.width - 1, panel.height - 1);
      if (panel.title) {
        context.textAlign = "center";
        context.textBaseline = "bottom";
        context.fillText(panel.title, panel.left + panel.width / 2, panel.top - 2);
      }
      if (panel.showX) {
        context.textAlign = "center";
        context.textBaseline = "top";
        for (let x = Math.ceil(x0 / xStep) * xStep; x <= x1 + 1e-9; x += xStep) {
          const [px] = this.toPixels(panel, [x, y0]);
          context.fillText(tickLabel(x, xStep), px, panel.top + panel.height + 3);
        }
      }
      if (panel.showY) {
        context.textAlign = "right";
        context.textBaseline = "middle";
        for (let y = Math.ceil(y0 / yStep) * yStep; y <= y1 + 1e-9; y += yStep) {
          const [, py] = this.toPixels(panel, [x0, y]);
          context.fillText(tickLabel(y, yStep), panel.left - 4, py);
        }
      }
      this.drawLandmarks(context, panel, scale);
    }
    context.fillStyle = "#444";
    if (colourBar) this.drawColourBar(context, bands, width - colourBar, panels[0].top, height, font);
  }

  drawColourBar(context, bands, left, top, height, font) {
    const barWidth = 12;
    const barTop = top + 4;
    const barHeight = Math.max(40, height * 0.8 - 8);
    const { palette, start, size, count } = bands;
    for (let b = 0; b < count; b++) {
      const [r, g, bl] = palette[b];
      context.fillStyle = `rgb(${r},${g},${bl})`;
      const y = barTop + barHeight * (1 - (b + 1) / count);
      context.fillRect(left + 4, y, barWidth, barHeight / count + 0.5);
    }
    context.strokeStyle = "#888";
    context.strokeRect(left + 4.5, barTop + 0.5, barWidth, barHeight);
    context.fillStyle = "#444";
    context.textAlign = "left";
    context.textBaseline = "middle";
    // Round tick values (a multiple of a 1-2-5 step) at their place on the bar.
    const span = count * size;
    const step = niceStep(span, Math.max(2, Math.floor(barHeight / (font * 2.2))));
    for (let value = Math.ceil(start / step) * step; value <= start + span + 1e-9; value += step) {
      const y = barTop + barHeight * (1 - (value - start) / span);
      context.fillText(tickLabel(value, step), left + 4 + barWidth + 3, y);
    }
    context.save();
    context.translate(left + this.layout.colourBar - 2, barTop + barHeight / 2);
    context.rotate(-Math.PI / 2);
    context.textAlign = "center";
    context.textBaseline = "bottom";
    context.fillText(this.surface.label, 0, 0);
    context.restore();
  }

  drawLandmarks(context, panel, scale) {
    for (const m of this.surface.minima) {
      const [px, py] = this.toPixels(panel, [m.x, m.y]);
      this.star(context, px, py, 8 * scale);
      context.fillStyle = m.global ? "#fff" : "rgba(0,0,0,0)";
      context.fill();
      context.lineWidth = 1.5 * scale;
      context.strokeStyle = "#000";
      context.stroke();
    }
    // A saddle: an hourglass (the surface rises one way and falls the other), hollow, unlike the
    // coloured X where a diverged run left the map.
    for (const [x, y] of this.surface.saddles) {
      const [px, py] = this.toPixels(panel, [x, y]);
      const r = 6 * scale;
      context.beginPath();
      context.moveTo(px - r, py - r);
      context.lineTo(px + r, py - r);
      context.lineTo(px - r, py + r);
      context.lineTo(px + r, py + r);
      context.closePath();
      context.fillStyle = "#fff";
      context.fill();
      context.lineWidth = 1.5 * scale;
      context.strokeStyle = "#000";
      context.stroke();
    }
  }

  star(context, x, y, r) {
    context.beginPath();
    for (let i = 0; i < 10; i++) {
      const radius = i % 2 ? r * 0.45 : r;
      const angle = -Math.PI / 2 + (i * Math.PI) / 5;
      context[i ? "lineTo" : "moveTo"](x + radius * Math.cos(angle), y + radius * Math.sin(angle));
    }
    context.closePath();
  }

  drawForeground() {
    const { dpr, panels, scale, thick } = this.layout;
    const context = this.foreground.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.foreground.width, this.foreground.height);
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    const whole = this.wholeBox.checked;
    const last = Math.floor(this.step);
    const fraction = this.step - last;
    context.lineJoin = "round";
    context.lineCap = "round";
    panels.forEach((panel, p) => {
      const crosses = [];
      context.save();
      context.beginPath();
      context.rect(panel.left, panel.top, panel.width, panel.height);
      context.clip();
      panel.members.forEach((k, m) => {
        const path = this.race.paths[k];
        const { pixels, end, exit } = this.pathPixels[p][m];
        const points = end + 1;
        context.strokeStyle = path.colour;
        if (whole) {
          context.globalAlpha = 0.25;
          context.lineWidth = 2 * thick;
          this.polyline(context, pixels, points - 1, 0);
        }
        context.globalAlpha = 1;
        const upto = Math.min(last, points - 1);
        // The trail over its casing, a pixel wider each side: every colour stands out from the bands.
        context.strokeStyle = this.surface.casing;
        context.lineWidth = 2.5 * thick + 2;
        this.polyline(context, pixels, upto, upto < points - 1 ? fraction : 0);
        context.strokeStyle = path.colour;
        context.lineWidth = 2.5 * thick;
        this.polyline(context, pixels, upto, upto < points - 1 ? fraction : 0);
        const [hx, hy] = this.pointAt(pixels, upto, upto < points - 1 ? fraction : 0);
        if (exit && this.step >= end) {
          crosses.push([exit, path.colour]);
        } else {
          this.head(context, path, hx, hy, 6.5 * scale, 2 * scale);
        }
      });
      context.restore();
      for (const [exit, colour] of crosses) this.cross(context, exit, colour, scale);
      const [sx, sy] = this.toPixels(panel, this.currentStart());
      context.beginPath();
      context.arc(sx, sy, 8 * scale, 0, 2 * Math.PI);
      context.lineWidth = 2.5 * scale;
      context.strokeStyle = "#000";
      context.stroke();
    });
  }

  pointAt(pixels, index, fraction) {
    const i = 2 * index;
    if (!fraction) return [pixels[i], pixels[i + 1]];
    return [pixels[i] + fraction * (pixels[i + 2] - pixels[i]), pixels[i + 1] + fraction * (pixels[i + 3] - pixels[i + 1])];
  }

  polyline(context, pixels, upto, fraction) {
    context.beginPath();
    context.moveTo(pixels[0], pixels[1]);
    for (let i = 1; i <= upto; i++) context.lineTo(pixels[2 * i], pixels[2 * i + 1]);
    if (fraction) context.lineTo(...this.pointAt(pixels, upto, fraction));
    context.stroke();
  }

  // A cross where a diverged run left the map.
  cross(context, [x, y], colour, scale) {
    crossPath(context, x, y, 7 * scale);
    context.lineWidth = 5 * scale;
    context.strokeStyle = "#fff";
    context.stroke();
    context.lineWidth = 3 * scale;
    context.strokeStyle = colour;
    context.stroke();
  }

  destroy() {
    this.destroyed = true;
    clearTimeout(this.tuneSettle);
    this.resizeObserver.disconnect();
    this.pageObserver.disconnect();
    this.stopWatching?.();
    this.stopWatchingSidebar();
    window.removeEventListener("optviz-race-goto", this.onGoTo);
    window.removeEventListener("resize", this.onWindowResize);
    if (this.frameRequest !== null) cancelAnimationFrame(this.frameRequest);
  }
}

export default (component) => mountOnce(component, RaceChart); // canvas_kit.js
