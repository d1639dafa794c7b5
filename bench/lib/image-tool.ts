// What the image generation benchmark and its fake model agree on (bench/upstream-process.ts).

/** A user message carrying this makes the `tooling` upstream call generate_image. */
export const IMAGE_TOOL_MARKER = '[bench: call generate_image]';
