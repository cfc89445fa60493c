// The page's files. tsc copies no assets into dist/, so they are found from the package root: the same
// src/ui/public/ serves `node src/...` and `node dist/src/...`. The editor (Ace) is served from the
// ace-builds package, restricted to the few files the page loads.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** The directory that holds package.json, searched upwards from this module. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "src", "ui", "public"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the UI's files (src/ui/public) were not found above ${from}`);
    dir = parent;
  }
}

export function publicDir(): string {
  return join(packageRoot(), "src", "ui", "public");
}

export function aceDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("ace-builds/package.json")), "src-min-noconflict");
}

/** Files of the page: fixed names only, so no request path ever reaches the file system. */
const PAGE_FILES: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/dom.js": "dom.js",
  "/campaign-form.js": "campaign-form.js",
  "/campaign-list.js": "campaign-list.js",
  "/campaign-history.js": "campaign-history.js",
  "/sparkline.js": "sparkline.js",
  "/session.js": "session.js",
  "/login.html": "login.html",
  "/login.js": "login.js",
  "/style.css": "style.css",
  "/campaigns.css": "campaigns.css",
};

/** The Ace files the page uses: the editor, the JavaScript and JSON modes, one theme. */
const ACE_FILES = new Set(["ace.js", "mode-javascript.js", "mode-json.js", "theme-tomorrow_night.js"]);

export class StaticFiles {
  readonly #publicDir: string;
  readonly #aceDir: string;
  readonly #cache = new Map<string, Buffer>();

  constructor(options: { publicDir?: string; aceDir?: string } = {}) {
    this.#publicDir = options.publicDir ?? publicDir();
    this.#aceDir = options.aceDir ?? aceDir();
  }

  /** Serves `path` when it is one of the UI's files; false otherwise (the caller answers 404). */
  async serve(path: string, res: ServerResponse): Promise<boolean> {
    let file: string | undefined;
    const page = PAGE_FILES[path];
    if (page) file = join(this.#publicDir, page);
    else if (path.startsWith("/vendor/ace/") && ACE_FILES.has(path.slice("/vendor/ace/".length)))
      file = join(this.#aceDir, path.slice("/vendor/ace/".length));
    if (!file) return false;
    let body = this.#cache.get(file);
    if (!body) {
      body = await readFile(file);
      // The page's own files are re-read on every request so that edits show on reload; the vendored ones
      // never change while the server runs.
      if (file.startsWith(this.#aceDir)) this.#cache.set(file, body);
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": body.length,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    });
    res.end(body);
    return true;
  }
}
