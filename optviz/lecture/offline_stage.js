// The offline deck (optviz/lecture/offline.py): the lecture stage (optviz/ui/lecture_stage, whose JS
// comes before this, after canvas_kit.js) with its scenes as sections of this page, not iframes. The
// keys, the progress bar, the count and the grid of all scenes are the stage's own.
//
// A scene's charts are drawn when it is shown and taken down when it is left: Plotly's figures with
// the plotly.js in this file, optviz's components by calling their module's default export with their
// data, as Streamlit does (nothing to send back: there is no server). So an animation starts from its
// beginning each time its scene comes. The scene number is kept in the URL's fragment (#5).

const DECK = JSON.parse(document.getElementById("optviz-deck").textContent);
const componentModules = new Map(); // component name -> the promise of its default export

function componentModule(name) {
  if (!componentModules.has(name)) {
    const source = document.getElementById(`optviz-js-${name}`).textContent;
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    componentModules.set(name, import(url).then((module) => module.default));
  }
  return componentModules.get(name);
}

class OfflineStage extends LectureStage {
  constructor(parent) {
    super(parent);
    const scenes = document.querySelector(".optviz-offline__scenes");
    this.frames.replaceChildren(scenes);
    this.sections = [...scenes.querySelectorAll(".optviz-offline__scene")];
    this.takeDown = []; // what undraws the shown scene's charts
    this.shownScene = -1;
  }

  showView(index) {
    if (index === this.shownScene) return;
    this.shownScene = index;
    for (const undraw of this.takeDown.splice(0)) undraw();
    this.sections.forEach((section, n) => (section.hidden = n !== index));
    const section = this.sections[index];
    this.frames.scrollTop = 0;
    for (const slot of section.querySelectorAll("[data-mount]")) this.draw(slot, index);
  }

  async draw(slot, scene) {
    const [kind, name, data] = DECK.mounts[Number(slot.dataset.mount)];
    let undraw;
    try {
      if (kind === "figure") {
        const config = { displaylogo: false, responsive: true, ...data.config };
        await Plotly.newPlot(slot, data.spec.data || [], data.spec.layout || {}, config);
        undraw = () => Plotly.purge(slot);
      } else {
        const mount = await componentModule(name);
        if (scene !== this.shownScene) return;
        slot.innerHTML = document.getElementById(`optviz-html-${name}`).innerHTML;
        const cleanup = mount({ data, parentElement: slot, setStateValue() {}, setTriggerValue() {} });
        undraw = () => {
          if (typeof cleanup === "function") cleanup();
          slot.replaceChildren();
        };
      }
    } catch (problem) {
      slot.textContent = `This chart could not be drawn here (${problem}).`;
      return;
    }
    if (scene === this.shownScene) this.takeDown.push(undraw);
    else undraw(); // its scene was left while it was being drawn
  }

  fit() {} // the page's CSS gives the stage the window's height
}

const stage = new OfflineStage(document.querySelector(".optviz-offline"));
const asked = Number.parseInt(window.location.hash.slice(1), 10);
stage.update({ scenes: DECK.scenes, current: Number.isFinite(asked) ? asked : 1 }, (_, number) => {
  try {
    window.history.replaceState(null, "", `#${number}`);
  } catch (problem) { // a browser that keeps a local file's URL as it is: the deck steps all the same
  }
});
document.querySelector(".optviz-lecture").dataset.ready = "true";
