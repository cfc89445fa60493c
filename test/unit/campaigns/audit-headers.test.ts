// The audit stamp of campaign records: the headers a writer adds, and what a reader keeps of headers that anyone
// may have written (capped, without control characters); the engine's status record repeats them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AUDIT_HEADERS,
  auditFromHeaders,
  auditHeaders,
  MAX_AUDIT_VALUE_CHARS,
  sanitizeAuditValue,
} from "../../../src/campaigns/audit-headers.js";
import { CampaignSet } from "../../../src/campaigns/campaign-set.js";
import { FilterCompiler } from "../../../src/compile/filter-compiler.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { campaign } from "../../helpers/campaigns.js";

test("sanitizing removes control characters and direction overrides, trims, and caps the length", () => {
  assert.equal(sanitizeAuditValue("alice@host"), "alice@host");
  assert.equal(sanitizeAuditValue("  ali\nce\r\t@ho\u0000st\u007f\u0085 "), "alice@host");
  // A terminal escape loses its ESC, so it cannot colour or move anything; the rest is shown as text.
  assert.equal(sanitizeAuditValue("\u001b[31mroot\u001b[0m"), "[31mroot[0m");
  // Right-to-left override: "alice" would display reversed in a page or terminal.
  assert.equal(sanitizeAuditValue("\u202eecila\u202c \u2066x\u2069"), "ecila x");
  assert.equal(sanitizeAuditValue("\n\u0001 "), "");
  // Ordinary non-ASCII stays, and the cap counts characters, not UTF-16 units: no emoji is cut in half.
  assert.equal(sanitizeAuditValue("Zoë 🎮 Müller"), "Zoë 🎮 Müller");
  const long = "🎮".repeat(500);
  const capped = sanitizeAuditValue(long);
  assert.equal([...capped].length, MAX_AUDIT_VALUE_CHARS);
  assert.ok(capped.endsWith("🎮…"), capped.slice(-4));
  assert.equal(sanitizeAuditValue("x".repeat(MAX_AUDIT_VALUE_CHARS)), "x".repeat(MAX_AUDIT_VALUE_CHARS));
  assert.equal(sanitizeAuditValue("abcdef", 4), "abc…");
});

test("a writer's stamp: author, the time of the write in ISO-8601 UTC, and the tool", () => {
  const headers = auditHeaders(
    { author: " alice@box\n (kafka: crm-editor) ", via: "cli" },
    new Date(Date.UTC(2026, 11, 1, 10, 0, 0, 5)),
  );
  assert.deepEqual(headers, {
    "rtcrm-author": "alice@box (kafka: crm-editor)",
    "rtcrm-written-at": "2026-12-01T10:00:00.005Z",
    "rtcrm-via": "cli",
  });
  assert.deepEqual(Object.keys(headers).sort(), Object.values(AUDIT_HEADERS).sort());
});

test("reading a stamp from headers: librdkafka's list or an object, bytes or text, untrusted values cleaned", () => {
  const list = [
    { "rtcrm-author": Buffer.from("bob") },
    { "other-header": Buffer.from("ignored") },
    { "rtcrm-written-at": Buffer.from("2026-12-01T10:00:00.000Z") },
    { "rtcrm-via": "ui" },
  ];
  assert.deepEqual(auditFromHeaders(list), {
    written_by: "bob",
    written_at: "2026-12-01T10:00:00.000Z",
    written_via: "ui",
  });
  assert.deepEqual(auditFromHeaders({ "rtcrm-author": "carol", "rtcrm-via": "cli" }), {
    written_by: "carol",
    written_via: "cli",
  });
  // No headers (a record from kcat or the seed tooling): no fields at all, not empty ones.
  assert.deepEqual(auditFromHeaders(undefined), {});
  assert.deepEqual(auditFromHeaders([]), {});
  assert.deepEqual(auditFromHeaders({ "x-other": "1" }), {});
  // Hostile values: not UTF-8 is dropped, controls removed, an empty result dropped, the length capped.
  const hostile = auditFromHeaders([
    { "rtcrm-author": Buffer.from([0xff, 0xfe, 0x41]) },
    { "rtcrm-via": Buffer.from("\u001b[2J\u0007") },
    { "rtcrm-written-at": "x".repeat(10_000) + "\n" },
  ]);
  assert.deepEqual(Object.keys(hostile), ["written_at", "written_via"]);
  assert.equal(hostile.written_via, "[2J");
  assert.equal([...(hostile.written_at ?? "")].length, MAX_AUDIT_VALUE_CHARS);
  // A header repeated: the last one counts, as for a map of headers.
  assert.deepEqual(auditFromHeaders([{ "rtcrm-author": "first" }, { "rtcrm-author": "second" }]), {
    written_by: "second",
  });
  assert.deepEqual(auditFromHeaders([{ "rtcrm-author": "first" }, { "rtcrm-author": " \n" }]), {});
});

test("the engine's status record repeats the stamp of the record it is about, and only when there is one", async () => {
  const compiler = new FilterCompiler(
    loadEngineModule(),
    join(mkdtempSync(join(tmpdir(), "rtcrm-audit-")), "fc"),
  );
  const set = new CampaignSet({
    compiler,
    limitsFor: () => ({ fuel: 1_000_000, memoryBytes: 8 << 20, deadlineMs: 1_000 }),
    now: () => new Date("2026-12-01T10:00:01.000Z"),
  });
  const audit = { written_by: "alice@box", written_at: "2026-12-01T10:00:00.000Z", written_via: "cli" };
  const value = Buffer.from(JSON.stringify(campaign(7, "(e) => true")));
  const accepted = await set.apply({ key: "7", value, source: "c/0/0", audit });
  assert.equal(accepted.status, "accepted");
  assert.deepEqual(
    { by: accepted.written_by, at: accepted.written_at, via: accepted.written_via },
    { by: "alice@box", at: "2026-12-01T10:00:00.000Z", via: "cli" },
  );
  const rejected = await set.apply({ key: "7", value: Buffer.from("nope"), source: "c/0/1", audit });
  assert.equal(rejected.status, "rejected");
  assert.equal(rejected.written_by, "alice@box");
  const deleted = await set.apply({ key: "7", value: null, source: "c/0/2", audit: { written_by: "bob" } });
  assert.deepEqual(deleted, {
    campaign_id: 7,
    status: "deleted",
    source: "c/0/2",
    at: "2026-12-01T10:00:01.000Z",
    written_by: "bob",
  });
  const plain = await set.apply({ key: "7", value, source: "c/0/3" });
  assert.equal(plain.status, "accepted");
  assert.ok(!("written_by" in plain) && !("written_at" in plain) && !("written_via" in plain));
  assert.ok(!JSON.stringify(plain).includes("written_"));
});
