// Who a UI request comes from: a session cookie, an API token or a trusted proxy's identity header, per the
// configured mode; and the log-in that issues the cookie, with a limit on failed attempts per address.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { Role, UiAccess } from "./access-config.js";
import { verifyPassword } from "./password-hash.js";
import { SessionCookies, type Session } from "./session-cookies.js";

export interface Identity {
  readonly name: string;
  readonly role: Role;
  readonly via: "session" | "token" | "proxy" | "none";
  readonly session?: Session;
}

export type Refusal = {
  readonly status: 401 | 403 | 429;
  readonly reason: string;
  readonly retryAfterS?: number;
};
export type Identified =
  { readonly ok: true; readonly identity: Identity } | ({ readonly ok: false } & Refusal);

/** Failed log-ins allowed per address in a minute; more get 429 until the minute has passed. */
const MAX_FAILURES_PER_MINUTE = 10;
const MINUTE_MS = 60_000;
/** Longer names and headers are not identities (and must not grow logs or records). */
const MAX_NAME_LENGTH = 200;

/** The peer's address, IPv4-mapped IPv6 written as IPv4. */
export function peerAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

export class RequestIdentity {
  readonly #access: UiAccess;
  readonly #sessions: SessionCookies;
  readonly #failures = new Map<string, number[]>();
  readonly #now: () => number;

  constructor(access: UiAccess, now: () => number = Date.now) {
    this.#access = access;
    this.#now = now;
    this.#sessions = new SessionCookies({
      secret: access.sessionSecret,
      ttlMs: access.sessionTtlMs,
      secure: access.cookieSecure,
      now,
    });
  }

  get mode(): UiAccess["mode"] {
    return this.#access.mode;
  }

  roleOf(name: string): Role {
    return this.#access.roles.get(name) ?? "viewer";
  }

  /** The request's identity, or why it has none. */
  identify(req: IncomingMessage): Identified {
    const { mode } = this.#access;
    if (mode === "none") return { ok: true, identity: { name: "anonymous", role: "editor", via: "none" } };
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (bearer !== undefined) return this.#byToken(bearer);
    if (mode === "proxy") return this.#byProxy(req);
    const session = this.#sessions.read(req.headers.cookie);
    // A user removed from the configuration loses the sessions they had.
    if (session === null || !this.#access.users.has(session.user)) {
      return { ok: false, status: 401, reason: "log in first (no session, or it expired)" };
    }
    return {
      ok: true,
      identity: { name: session.user, role: this.roleOf(session.user), via: "session", session },
    };
  }

  /** Password log-in: the Set-Cookie header of a new session, or why not. */
  async logIn(
    user: string,
    password: string,
    req: IncomingMessage,
  ): Promise<{ ok: true; identity: Identity; setCookie: string } | ({ ok: false } & Refusal)> {
    if (this.#access.mode !== "password") {
      return {
        ok: false,
        status: 403,
        reason: `log-in by password is off (ui_auth is ${this.#access.mode})`,
      };
    }
    const address = peerAddress(req);
    const now = this.#now();
    const recent = (this.#failures.get(address) ?? []).filter((t) => t > now - MINUTE_MS);
    if (recent.length >= MAX_FAILURES_PER_MINUTE) {
      const retryAfterS = Math.ceil(((recent[0] as number) + MINUTE_MS - now) / 1000);
      return { ok: false, status: 429, reason: "too many failed log-ins from this address", retryAfterS };
    }
    const known = user.length <= MAX_NAME_LENGTH ? this.#access.users.get(user) : undefined;
    if (!(await verifyPassword(password, known))) {
      recent.push(now);
      this.#failures.set(address, recent);
      return { ok: false, status: 401, reason: "unknown user or wrong password" };
    }
    this.#failures.delete(address);
    const { session, setCookie } = this.#sessions.issue(user);
    return {
      ok: true,
      identity: { name: user, role: this.roleOf(user), via: "session", session },
      setCookie,
    };
  }

  /** Ends the request's session (if any); the Set-Cookie header that clears the cookie. */
  logOut(identity: Identity | null): string {
    if (identity?.session) this.#sessions.end(identity.session);
    return this.#sessions.clearCookie();
  }

  #byToken(token: string): Identified {
    const digest = sha256(token);
    let name: string | undefined;
    // Every token is compared, in constant time, whichever matches.
    for (const [tokenName, expected] of this.#access.tokens) {
      if (timingSafeEqual(digest, expected) && name === undefined) name = tokenName;
    }
    if (name === undefined) return { ok: false, status: 401, reason: "unknown API token" };
    return { ok: true, identity: { name, role: this.roleOf(name), via: "token" } };
  }

  #byProxy(req: IncomingMessage): Identified {
    const address = peerAddress(req);
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (!this.#access.trustedProxies.check(address, family)) {
      return { ok: false, status: 403, reason: "requests must come through the configured proxy" };
    }
    const header = req.headers[this.#access.proxyUserHeader];
    const name = typeof header === "string" ? header.trim() : "";
    if (name === "" || name.length > MAX_NAME_LENGTH || /[\p{Cc}]/u.test(name)) {
      return {
        ok: false,
        status: 401,
        reason: `the proxy sent no valid ${this.#access.proxyUserHeader} header`,
      };
    }
    return { ok: true, identity: { name, role: this.roleOf(name), via: "proxy" } };
  }
}
