// Argument handling of `rtcrm`: command words, options anywhere, help for every command, usage and
// configuration errors with exit code 2 before any Kafka client is made.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCommand, splitCommand, UsageError } from "../../../src/cli/args.js";
import { COMMANDS, isCommandWord } from "../../../src/cli/commands.js";
import { cli, tempFile } from "./run-cli.js";

test("command words are found wherever global options stand, and option values are never taken for words", () => {
  assert.deepEqual(splitCommand(["--config", "campaign", "campaign", "list", "--json"], isCommandWord), {
    words: ["campaign", "list"],
    rest: ["--config", "campaign", "--json"],
  });
  assert.deepEqual(splitCommand(["campaign", "put", "campaign"], isCommandWord), {
    words: ["campaign", "put"],
    rest: ["campaign"],
  });
  assert.deepEqual(splitCommand(["backtest", "--events", "run"], isCommandWord).words, ["backtest"]);
  assert.deepEqual(splitCommand(["event", "send", "-"], isCommandWord), {
    words: ["event", "send"],
    rest: ["-"],
  });
});

test("parseCommand rejects unknown options and wrong argument counts with the command named", () => {
  const spec = { json: { type: "boolean" } } as const;
  assert.deepEqual(
    {
      ...parseCommand(["campaign", "list"], ["--json", "--config", "c.json"], spec, { min: 0, max: 0 })
        .values,
    },
    {
      json: true,
      config: "c.json",
    },
  );
  assert.throws(
    () => parseCommand(["campaign", "list"], ["--bogus"], spec, { min: 0, max: 0 }),
    (e: unknown) =>
      e instanceof UsageError && /--bogus/.test(e.message) && e.command.join(" ") === "campaign list",
  );
  assert.throws(
    () => parseCommand(["campaign", "get"], [], {}, { min: 1, max: 1, name: "ID" }),
    /missing ID/,
  );
  assert.throws(
    () => parseCommand(["campaign", "get"], ["1", "2"], {}, { min: 1, max: 1 }),
    /unexpected argument "2"/,
  );
  // --help wins over a missing argument: `rtcrm campaign get --help` must show help.
  assert.equal(parseCommand(["campaign", "get"], ["--help"], {}, { min: 1, max: 1 }).values.help, true);
});

test("every command has --help with usage, examples and exit codes, on stdout with exit code 0", async () => {
  for (const command of COMMANDS) {
    const { code, stdout, stderr } = await cli([...command.words, "--help"]);
    assert.equal(code, 0, command.words.join(" "));
    assert.equal(stderr, "");
    assert.match(stdout, new RegExp(`^usage: rtcrm ${command.words.join(" ")}`));
    assert.match(stdout, /\nexamples:\n {2}rtcrm /, command.words.join(" "));
    assert.match(stdout, /\nexit codes: 0 /, command.words.join(" "));
  }
  const top = await cli(["--help"]);
  assert.equal(top.code, 0);
  for (const command of COMMANDS) assert.ok(top.stdout.includes(`rtcrm ${command.words.join(" ")}`));
  assert.match(top.stdout, /exit codes:\n {2}0 {2}success\n {2}1 {2}failure/);
  assert.equal((await cli(["help"])).code, 0);
  const group = await cli(["campaign", "-h"]);
  assert.equal(group.code, 0);
  assert.match(group.stdout, /rtcrm campaign check FILE\|-/);
});

test("usage errors exit 2 on stderr and point at the command's help", async () => {
  const cases: [string[], RegExp][] = [
    [[], /^usage: rtcrm <command>/],
    [["frobnicate"], /unknown command "frobnicate"\n\(rtcrm --help/],
    [["campaign"], /campaign: which command\? one of put, get, list, delete, history, check/],
    [["campaign", "history", "x"], /ID must be a whole number, got "x"/],
    [["campaign", "frob"], /campaign: unknown command "frob"/],
    [["campaign", "put"], /missing FILE \(or - for stdin\)\nusage: rtcrm campaign put FILE\|-/],
    [["campaign", "get", "x"], /ID must be a whole number, got "x"/],
    [["campaign", "list", "--bogus"], /Unknown option --bogus\nusage: rtcrm campaign list/],
    [["campaign", "check", "/nonexistent/c.json"], /\/nonexistent\/c.json cannot be read \(ENOENT\)/],
    [["event", "send"], /give either FILE \(or - for stdin\) or --json/],
    [["event", "send", "f.jsonl", "--json", "{}"], /give either FILE/],
    [["event", "send", "--json"], /--json <value> argument missing/],
    [["triggers", "tail", "--max", "0"], /--max must be a whole number of at least 1, got "0"/],
    [["backtest", "--events", "e.jsonl"], /both --campaigns FILE and --events FILE are needed/],
    [
      ["backtest", "--campaigns", "-", "--events", "-"],
      /only one of --campaigns and --events can read stdin/,
    ],
    [["campaign", "list", "--timeout", "soon"], /--timeout must be a whole number of at least 1/],
  ];
  for (const [argv, expected] of cases) {
    const { code, stdout, stderr } = await cli(argv);
    assert.equal(code, 2, argv.join(" "));
    assert.equal(stdout, "", argv.join(" "));
    assert.match(stderr, expected, argv.join(" "));
  }
});

test("an invalid configuration stops a Kafka command with exit 2 and every problem, before Kafka is asked", async () => {
  const bad = tempFile("config.json", JSON.stringify({ workers: "many", campaign_topc: "x" }));
  const fromFile = await cli(["campaign", "list", "--config", bad]);
  assert.equal(fromFile.code, 2);
  assert.match(fromFile.stderr, /workers: expected an integer/);
  assert.match(fromFile.stderr, /unknown key "campaign_topc"/);
  assert.match(fromFile.stderr, /fix the --config file or the RTCRM_\* variable/);

  const fromEnv = await cli(["triggers", "tail"], { env: { RTCRM_TIME_BASIS: "wall-clock" } });
  assert.equal(fromEnv.code, 2);
  assert.match(
    fromEnv.stderr,
    /time_basis: expected one of "processing-time", "created-at", got "wall-clock"/,
  );

  const missing = await cli(["--config", "/nonexistent/rtcrm.json", "campaign", "delete", "1"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\/nonexistent\/rtcrm.json: cannot be read \(ENOENT\)/);
});

test("a broker that does not answer is a failure (exit 1) that names the setting to change", async () => {
  // Port 1 on the loopback refuses at once; --timeout bounds the wait.
  const { code, stderr } = await cli(["campaign", "list", "--timeout", "3"], {
    env: { RTCRM_KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1" },
  });
  assert.equal(code, 1);
  assert.match(stderr, /kafka_bootstrap_servers|RTCRM_KAFKA_BOOTSTRAP_SERVERS/);
});

test("--version prints the package version", async () => {
  const { code, stdout } = await cli(["--version"]);
  assert.equal(code, 0);
  assert.match(stdout, /^rtcrm \d+\.\d+\.\d+\n$/);
});
