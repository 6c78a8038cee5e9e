// Shared by optviz's canvas components (optviz/ui/components.py puts this before their own JS).

// Bytes packed by optviz/packing.py's `encode` (base64).
function decodeBytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
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
