import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { StaticFiles, packageRoot } from "../../../src/ui/static-files.js";

test("the page's files are found from the compiled code in dist/ (tsc copies no assets)", () => {
  const here = fileURLToPath(new URL(".", import.meta.url));
  assert.match(here, /dist\/test\/unit\/ui\/$/);
  assert.equal(packageRoot(here), fileURLToPath(new URL("../../../../", import.meta.url)).replace(/\/$/, ""));
  assert.throws(() => packageRoot("/"), /src\/ui\/public/);
});

test("only the page's files and the listed Ace files are served; no path reaches the file system", async (t) => {
  const files = new StaticFiles();
  const server: Server = createServer((req, res) => {
    void files.serve(new URL(req.url ?? "/", "http://x").pathname, res).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string) => {
    const r = await fetch(base + path);
    return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
  };
  const page = await get("/");
  assert.equal(page.status, 200);
  assert.equal(page.type, "text/html; charset=utf-8");
  assert.match(page.body, /<script type="module" src="\/app.js">/);
  assert.equal((await get("/app.js")).type, "text/javascript; charset=utf-8");
  assert.equal((await get("/style.css")).type, "text/css; charset=utf-8");
  // Everything the page loads is served: its stylesheets and scripts, and the modules those import in turn.
  const pending = [...page.body.matchAll(/(?:href|src)="(\/[^"]*)"/g)].map((m) => m[1] ?? "");
  const loaded = new Set<string>();
  for (let path = pending.shift(); path !== undefined; path = pending.shift()) {
    if (loaded.has(path)) continue;
    loaded.add(path);
    const file = await get(path);
    assert.equal(file.status, 200, path);
    if (path.endsWith(".js") && !path.startsWith("/vendor/"))
      for (const m of file.body.matchAll(/^import [^;]* from "\.(\/[^"]+)";$/gm)) pending.push(m[1] ?? "");
  }
  assert.ok(loaded.has("/sparkline.js") && loaded.has("/campaigns.css"), [...loaded].join(" "));
  const ace = await get("/vendor/ace/ace.js");
  assert.equal(ace.status, 200);
  assert.match(ace.body, /ace/);
  assert.equal((await get("/vendor/ace/mode-javascript.js")).status, 200);
  for (const path of [
    "/vendor/ace/worker-javascript.js",
    "/vendor/ace/../../package.json",
    "/package.json",
    "/src/ui/public/app.js",
    "/%2e%2e/package.json",
    join("/vendor/ace", "x"),
  ])
    assert.equal((await get(path)).status, 404, path);
});
