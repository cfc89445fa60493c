// Log-in sessions as signed cookies: the cookie holds the user's name, the expiry and a random id, signed
// with HMAC-SHA-256; the server keeps only the ids of sessions logged out before they expired.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "rtcrm_session";

export interface Session {
  readonly user: string;
  readonly expiresAt: number;
  readonly id: string;
}

export interface SessionCookieOptions {
  /** Empty: a random key, so sessions end with the process. */
  readonly secret: string;
  readonly ttlMs: number;
  readonly secure: boolean;
  readonly now?: () => number;
}

const b64 = (b: Buffer): string => b.toString("base64url");

export class SessionCookies {
  readonly #key: Buffer;
  readonly #ttlMs: number;
  readonly #secure: boolean;
  readonly #now: () => number;
  /** Session id -> its expiry: logged out, refused until it would have expired anyway. */
  readonly #ended = new Map<string, number>();

  constructor(options: SessionCookieOptions) {
    this.#key = options.secret === "" ? randomBytes(32) : Buffer.from(options.secret, "utf8");
    this.#ttlMs = options.ttlMs;
    this.#secure = options.secure;
    this.#now = options.now ?? Date.now;
  }

  /** A new session for `user` and the Set-Cookie header that carries it. */
  issue(user: string): { session: Session; setCookie: string } {
    const session: Session = {
      user,
      expiresAt: this.#now() + this.#ttlMs,
      id: b64(randomBytes(16)),
    };
    const payload = b64(Buffer.from(JSON.stringify([session.user, session.expiresAt, session.id])));
    const value = `${payload}.${this.#sign(payload)}`;
    return { session, setCookie: this.#cookie(value, Math.ceil(this.#ttlMs / 1000)) };
  }

  /** The Set-Cookie header that removes the cookie from the browser. */
  clearCookie(): string {
    return this.#cookie("", 0);
  }

  /** The live session of a request's Cookie header; null when absent, forged, expired or logged out. */
  read(cookieHeader: string | undefined): Session | null {
    const value = cookieValue(cookieHeader, SESSION_COOKIE);
    if (value === undefined) return null;
    const dot = value.indexOf(".");
    if (dot < 0) return null;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), "base64url");
    const expected = Buffer.from(this.#sign(payload), "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return null;
    }
    if (!Array.isArray(fields) || fields.length !== 3) return null;
    const [user, expiresAt, id] = fields as unknown[];
    if (typeof user !== "string" || typeof expiresAt !== "number" || typeof id !== "string") return null;
    if (expiresAt <= this.#now() || this.#ended.has(id)) return null;
    return { user, expiresAt, id };
  }

  /** Logs a session out: its cookie is refused from now on, even if a copy of it is replayed. */
  end(session: Session): void {
    const now = this.#now();
    for (const [id, expiresAt] of this.#ended) if (expiresAt <= now) this.#ended.delete(id);
    this.#ended.set(session.id, session.expiresAt);
  }

  #sign(payload: string): string {
    return b64(createHmac("sha256", this.#key).update(payload).digest());
  }

  #cookie(value: string, maxAgeS: number): string {
    return [
      `${SESSION_COOKIE}=${value}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Strict",
      `Max-Age=${maxAgeS}`,
      ...(this.#secure ? ["Secure"] : []),
    ].join("; ");
  }
}

/** One cookie's value from a Cookie header (the first of that name). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
