// Events leave the page's editor pretty-printed; on Kafka they are one line each, as a game backend writes
// them (and as `kcat` and the trigger records show them). Whitespace outside strings is dropped without
// parsing, so that every number keeps its digits exactly (player ids beyond 2^53 included).

/** `text` without the whitespace between JSON tokens; assumes valid JSON. */
export function compactJson(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== " " && c !== "\n" && c !== "\r" && c !== "\t") {
      out += c;
    }
  }
  return out;
}
