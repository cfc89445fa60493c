// `rtcrm ui password` and `rtcrm ui token`: the values the configuration holds for the UI's log-in (ui_users,
// ui_tokens), made here so that no password or token is ever written into a configuration file.
import { createHash, randomBytes } from "node:crypto";
import { hashPassword } from "../ui/auth/password-hash.js";
import { EXIT } from "./args.js";
import type { Command } from "./commands.js";
import type { Context } from "./context.js";
import { readText } from "./io.js";

const MIN_PASSWORD_LENGTH = 12;

async function uiPassword(ctx: Context): Promise<number> {
  // One line from stdin, so the password is in no shell history or process list.
  const password = (await readText(ctx.io, "-", ctx.command)).replace(/\r?\n$/, "");
  if (password.length < MIN_PASSWORD_LENGTH) {
    ctx.io.stderr(`rtcrm: the password must be at least ${MIN_PASSWORD_LENGTH} characters\n`);
    return EXIT.FAILURE;
  }
  ctx.io.stdout(`${await hashPassword(password)}\n`);
  return EXIT.OK;
}

async function uiToken(ctx: Context): Promise<number> {
  const token = randomBytes(32).toString("base64url");
  const digest = createHash("sha256").update(token).digest("hex");
  ctx.io.stdout(`token (give it to the script; it is shown only now): ${token}\n`);
  ctx.io.stdout(`ui_tokens value (for the configuration):            ${digest}\n`);
  return Promise.resolve(EXIT.OK);
}

export const UI_PASSWORD_COMMAND: Command = {
  words: ["ui", "password"],
  summary: "hash a UI user's password for ui_users",
  synopsis: "rtcrm ui password < password.txt",
  help: `Reads a password from stdin (one line) and prints its scrypt hash, the value of the user's entry in
ui_users. The configuration never holds the password itself. At least ${MIN_PASSWORD_LENGTH} characters.

examples:
  rtcrm ui password < password.txt
  read -rs PW && printf '%s\\n' "$PW" | rtcrm ui password    # typed, not echoed
  # then in the configuration: "ui_auth": "password", "ui_users": {"alice": "<the hash>"},
  #                            "ui_roles": {"alice": "editor"}`,
  options: {},
  positionals: { min: 0, max: 0 },
  exits: "0 printed; 1 password too short",
  run: uiPassword,
};

export const UI_TOKEN_COMMAND: Command = {
  words: ["ui", "token"],
  summary: "make an API token for scripts, and its ui_tokens value",
  synopsis: "rtcrm ui token",
  help: `Prints a new random API token (256 bits) and its SHA-256, the value of the token's entry in ui_tokens. A
script sends the token as "Authorization: Bearer <token>"; the configuration holds only the hash.

examples:
  rtcrm ui token
  # then: "ui_tokens": {"ci-deploy": "<the hash>"}, "ui_roles": {"ci-deploy": "editor"}
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/state`,
  options: {},
  positionals: { min: 0, max: 0 },
  exits: "0 printed",
  run: uiToken,
};
