// A block of Python, coloured from the pieces optviz/highlight.py cut it into, with a Copy button.
// Each piece is set as text (textContent), never as markup.

export default function ({ parentElement, data }) {
  const code = parentElement.querySelector(".optviz-code__code");
  const source = data.spans.map(([, text]) => text).join("");
  code.replaceChildren(
    ...data.spans.map(([kind, text]) => {
      if (!kind) return document.createTextNode(text);
      const span = document.createElement("span");
      span.className = `optviz-code--${kind}`;
      span.textContent = text;
      return span;
    }),
  );
  copyButton(parentElement.querySelector(".optviz-code__copy"), code, () => source); // clipboard_kit.js
}
