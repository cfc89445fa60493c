// The UI's access settings (ui_* keys) checked once with the rest of the configuration, and read into the
// form the server uses: who may log in, with which role, from which proxies, under which host names.
import { BlockList, isIP } from "node:net";
import type { Config } from "../../config/config.js";
import { parsePasswordHash, type PasswordHash } from "./password-hash.js";

export type Role = "viewer" | "editor";
export type AuthMode = Config["ui_auth"];

export interface UiAccess {
  readonly mode: AuthMode;
  readonly users: ReadonlyMap<string, PasswordHash>;
  /** Token name -> SHA-256 of the token. */
  readonly tokens: ReadonlyMap<string, Buffer>;
  readonly roles: ReadonlyMap<string, Role>;
  readonly sessionTtlMs: number;
  /** Empty: the server makes a random key. */
  readonly sessionSecret: string;
  readonly cookieSecure: boolean;
  /** Lower-case host names served besides loopback names and IP literals. */
  readonly allowedHosts: ReadonlySet<string>;
  readonly trustedProxies: BlockList;
  readonly proxyUserHeader: string;
}

const NAME = /^[\p{L}\p{N}._@+-]{1,128}$/u;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HEADER_NAME = /^[a-z0-9-]+$/;

function listOf(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

type AccessKeys = Pick<
  Config,
  | "ui_auth"
  | "ui_users"
  | "ui_tokens"
  | "ui_roles"
  | "ui_session_ttl_s"
  | "ui_session_secret"
  | "ui_cookie_secure"
  | "ui_allowed_hosts"
  | "ui_trusted_proxies"
  | "ui_proxy_user_header"
>;

/** Reads the ui_* keys; every problem goes to `problems` (values that are secrets are never repeated). */
function readUiAccess(config: AccessKeys, problems: string[]): UiAccess {
  const users = new Map<string, PasswordHash>();
  for (const [name, hash] of Object.entries(config.ui_users)) {
    if (!NAME.test(name)) problems.push(`ui_users: ${JSON.stringify(name)} is not a valid user name`);
    const parsed = typeof hash === "string" ? parsePasswordHash(hash) : "expected a string";
    if (typeof parsed === "string") problems.push(`ui_users.${name}: ${parsed}`);
    else users.set(name, parsed);
  }
  const tokens = new Map<string, Buffer>();
  for (const [name, digest] of Object.entries(config.ui_tokens)) {
    if (!NAME.test(name)) problems.push(`ui_tokens: ${JSON.stringify(name)} is not a valid token name`);
    if (typeof digest !== "string" || !/^[0-9a-f]{64}$/i.test(digest)) {
      problems.push(
        `ui_tokens.${name}: expected the token's SHA-256 in hex (64 digits), from \`rtcrm ui token\``,
      );
    } else tokens.set(name, Buffer.from(digest, "hex"));
  }
  const roles = new Map<string, Role>();
  for (const [name, role] of Object.entries(config.ui_roles)) {
    if (role === "editor" || role === "viewer") roles.set(name, role);
    else problems.push(`ui_roles.${name}: expected "editor" or "viewer", got ${JSON.stringify(role)}`);
  }
  const allowedHosts = new Set<string>();
  for (const host of listOf(config.ui_allowed_hosts).map((h) => h.toLowerCase())) {
    if (HOST_NAME.test(host)) allowedHosts.add(host);
    else
      problems.push(`ui_allowed_hosts: ${JSON.stringify(host)} is not a host name (no scheme, port or path)`);
  }
  const trustedProxies = new BlockList();
  for (const entry of listOf(config.ui_trusted_proxies)) {
    const [address = "", bits, extra] = entry.split("/");
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (
      family === 0 ||
      extra !== undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > (family === 6 ? 128 : 32)
    ) {
      problems.push(`ui_trusted_proxies: ${JSON.stringify(entry)} is not an address or CIDR range`);
      continue;
    }
    trustedProxies.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
  }
  const header = config.ui_proxy_user_header.toLowerCase();
  if (!HEADER_NAME.test(header))
    problems.push(`ui_proxy_user_header: ${JSON.stringify(header)} is not a header name`);
  if (config.ui_session_secret !== "" && config.ui_session_secret.length < 32) {
    problems.push(
      "ui_session_secret: must be at least 32 characters (or empty for a random key per process)",
    );
  }
  if (config.ui_auth === "password" && users.size + tokens.size === 0 && problems.length === 0) {
    problems.push("ui_auth is password, but ui_users and ui_tokens are empty: no one could log in");
  }
  if (config.ui_auth === "proxy" && listOf(config.ui_trusted_proxies).length === 0) {
    problems.push("ui_auth is proxy, but ui_trusted_proxies is empty: no identity header would be believed");
  }
  return {
    mode: config.ui_auth,
    users,
    tokens,
    roles,
    sessionTtlMs: config.ui_session_ttl_s * 1000,
    sessionSecret: config.ui_session_secret,
    cookieSecure: config.ui_cookie_secure,
    allowedHosts,
    trustedProxies,
    proxyUserHeader: header,
  };
}

/** For loadConfig: adds the ui_* keys' problems. */
export function checkUiAccess(config: AccessKeys, problems: string[]): void {
  readUiAccess(config, problems);
}

/** The UI's access settings of a configuration loadConfig accepted. */
export function uiAccess(config: AccessKeys): UiAccess {
  return readUiAccess(config, []);
}
