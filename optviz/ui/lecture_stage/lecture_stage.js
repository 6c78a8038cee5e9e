// The lecture's stage: the current scene's view in an iframe (the app's own page, embedded), the next
// and the previous ones loaded beside it out of view so that stepping shows them at once, and the
// keys a presenter's clicker sends. Stepping happens here, in the browser; the scene number then goes
// to Python (trigger "scene", 1-based), which writes the title, the caption and the URL.
//
// Keys: → Space PageDown next; ← PageUp previous; Home End; digits then Enter jump; Escape shows
// every scene's title to pick from. A key pressed inside a scene's view reaches the stage too: the
// view's deck bridge (optviz/ui/deck_bridge) posts {type: "optviz:key", key} to its parent, as it
// does in a reveal.js deck, and hands the keyboard back. The view keeps keys it uses itself (a
// focused slider, the race chart's arrows while it has focus).
//
// The views are told when they are shown or hidden, as reveal.js does ("slide:start" and
// "slide:stop" posted into the iframe): a race pauses and rewinds when its scene is left, and one
// that autoplays starts again when its scene comes back.

const NEXT = new Set(["ArrowRight", " ", "PageDown"]);
const PREVIOUS = new Set(["ArrowLeft", "PageUp"]);
const KEPT = 1; // scenes kept loaded on each side of the current one
const MIN_HEIGHT_PX = 280;
const NARROW_PX = 600; // a phone's stage takes the height left

class LectureStage {
  constructor(parent) {
    this.root = parent.querySelector(".optviz-lecture");
    this.frames = this.root.querySelector(".optviz-lecture__frames");
    this.bar = this.root.querySelector(".optviz-lecture__progress span");
    this.jumpBox = this.root.querySelector(".optviz-lecture__jump");
    this.count = this.root.querySelector(".optviz-lecture__count");
    // The same steps for a mouse or a finger: ‹ and › beside the count, and every scene's title.
    this.stepButtons = [...this.root.querySelectorAll(".optviz-lecture__step")];
    for (const button of this.stepButtons) {
      button.addEventListener("click", () => this.go(this.current + Number(button.dataset.step)));
    }
    this.root.querySelector(".optviz-lecture__all").addEventListener("click", () => this.openGrid());
    this.grid = this.root.querySelector(".optviz-lecture__grid");
    this.views = new Map(); // url -> iframe
    this.scenes = [];
    this.current = 0;
    this.typed = "";
    this.send = null;
    this.onKeyDown = (event) => this.onKey(event, event.target);
    this.onMessage = (event) => {
      const fromView = [...this.views.values()].some((frame) => frame.contentWindow === event.source);
      if (fromView && event.data && event.data.type === "optviz:key") this.press(event.data.key);
    };
    window.addEventListener("keydown", this.onKeyDown);
    window.addEventListener("message", this.onMessage);
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(this.root);
    window.addEventListener("resize", (this.onResize = () => this.fit()));
  }

  update(data, setTriggerValue) {
    this.send = setTriggerValue;
    if (!data) return;
    const changed = JSON.stringify(data.scenes) !== JSON.stringify(this.scenes);
    this.scenes = data.scenes;
    if (changed) this.fillGrid();
    this.show(Math.max(0, Math.min(this.scenes.length - 1, data.current - 1)));
    this.fit();
  }

  // --- the scenes ------------------------------------------------------------------------------

  show(index) {
    this.showView(index, this.current);
    this.current = index;
    this.root.dataset.scene = String(index + 1);
    this.bar.style.width = `${(100 * (index + 1)) / this.scenes.length}%`;
    this.count.textContent = `${index + 1} / ${this.scenes.length}`;
    const [back, next] = this.stepButtons;
    back.disabled = index === 0;
    next.disabled = index === this.scenes.length - 1;
    this.bar.parentElement.setAttribute("aria-valuenow", String(index + 1));
    this.bar.parentElement.setAttribute("aria-valuemax", String(this.scenes.length));
    for (const [n, button] of this.gridButtons()) button.setAttribute("aria-current", String(n === index));
  }

  // The scene `index` in view, `before` (the one shown until now) told it is left.
  showView(index, before) {
    const left = this.views.get(this.scenes[before]?.url);
    const near = new Set();
    for (let i = index - KEPT; i <= index + KEPT; i++) {
      if (i >= 0 && i < this.scenes.length) near.add(this.scenes[i].url);
    }
    for (const [url, frame] of this.views) {
      if (!near.has(url)) {
        frame.remove();
        this.views.delete(url);
      }
    }
    const here = this.scenes[index].url;
    for (const url of [here, ...near]) { // the current scene's view starts loading first
      if (!this.views.has(url)) this.views.set(url, this.newView(url));
    }
    for (const [url, frame] of this.views) {
      const waiting = url !== here;
      frame.classList.toggle("optviz-lecture--waiting", waiting);
      frame.tabIndex = waiting ? -1 : 0;
      frame.setAttribute("aria-hidden", String(waiting));
    }
    const shown = this.views.get(here);
    if (left && left !== shown) this.tell(left, "slide:stop");
    this.tell(shown, "slide:start");
  }

  newView(url) {
    const frame = document.createElement("iframe");
    frame.src = url;
    frame.title = this.scenes.find((scene) => scene.url === url)?.title || "scene";
    frame.className = "optviz-lecture--waiting";
    frame.setAttribute("allow", "clipboard-write");
    this.frames.appendChild(frame);
    return frame;
  }

  tell(frame, message) {
    try {
      frame.contentWindow?.postMessage(message, window.location.origin);
    } catch (problem) { // a view still loading has no window to tell yet: it starts as it loads
    }
  }

  go(index) {
    const target = Math.max(0, Math.min(this.scenes.length - 1, index));
    this.closeGrid();
    if (target === this.current) return;
    this.show(target);
    this.send?.("scene", target + 1);
  }

  // --- the keys --------------------------------------------------------------------------------

  onKey(event, target) {
    if (event.altKey || event.ctrlKey || event.metaKey || !this.scenes.length) return;
    const tag = target?.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable) return;
    if (tag === "BUTTON" && (event.key === " " || event.key === "Enter") && !this.grid.contains(target)) return;
    if (this.press(event.key)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  // A key for the stage; true if it used it.
  press(key) {
    if (!this.grid.hidden) {
      if (key === "Escape") this.closeGrid();
      return key === "Escape";
    }
    if (/^[0-9]$/.test(key)) {
      this.typed = (this.typed + key).slice(-3);
      this.showTyped();
      return true;
    }
    if (key === "Enter" && this.typed) {
      const n = Number(this.typed);
      this.typed = "";
      this.showTyped();
      this.go(n - 1);
      return true;
    }
    if (key === "Backspace" && this.typed) {
      this.typed = this.typed.slice(0, -1);
      this.showTyped();
      return true;
    }
    this.typed = "";
    this.showTyped();
    if (NEXT.has(key)) this.go(this.current + 1);
    else if (PREVIOUS.has(key)) this.go(this.current - 1);
    else if (key === "Home") this.go(0);
    else if (key === "End") this.go(this.scenes.length - 1);
    else if (key === "Escape") this.openGrid();
    else return false;
    return true;
  }

  showTyped() {
    this.jumpBox.hidden = !this.typed;
    this.jumpBox.textContent = this.typed ? `scene ${this.typed} ⏎` : "";
  }

  // --- all scenes (Escape) ---------------------------------------------------------------------

  fillGrid() {
    const list = this.grid.querySelector("ol");
    list.replaceChildren(
      ...this.scenes.map((scene, i) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        const number = document.createElement("b");
        number.textContent = String(i + 1);
        button.append(number, scene.title); // text, never markup: a deck's title is shown as typed
        button.addEventListener("click", () => this.go(i));
        item.appendChild(button);
        return item;
      }),
    );
  }

  *gridButtons() {
    let n = 0;
    for (const button of this.grid.querySelectorAll("button")) yield [n++, button];
  }

  openGrid() {
    this.grid.hidden = false;
    for (const [n, button] of this.gridButtons()) if (n === this.current) button.focus();
  }

  closeGrid() {
    if (this.grid.hidden) return;
    this.grid.hidden = true;
    this.root.focus?.();
  }

  // --- size ------------------------------------------------------------------------------------

  // The stage fills the window below the title and caption (a projector shows the whole scene),
  // at least MIN_HEIGHT_PX; on a wide screen no taller than 3/4 of its width, on a phone (portrait,
  // narrow) all the height left, since a view stacks its pieces there.
  fit() {
    const top = this.frames.getBoundingClientRect().top + window.scrollY;
    const room = window.innerHeight - Math.max(0, top) - 12;
    const width = this.frames.clientWidth;
    const height = Math.max(MIN_HEIGHT_PX, width < NARROW_PX ? room : Math.min(room, 0.75 * width));
    const px = `${Math.round(height)}px`;
    if (this.frames.style.height !== px) this.frames.style.height = px;
  }

  destroy() {
    window.removeEventListener("keydown", this.onKeyDown);
    window.removeEventListener("message", this.onMessage);
    window.removeEventListener("resize", this.onResize);
    this.resizeObserver.disconnect();
  }
}

export default (component) => {
  const { data, parentElement, setTriggerValue } = component;
  return mountOnce({ data, parentElement, setStateValue: setTriggerValue }, LectureStage); // canvas_kit.js
};
