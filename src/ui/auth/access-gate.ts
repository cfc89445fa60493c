// The UI's door: every request passes here before any route runs. It refuses host names the UI does not serve
// (DNS rebinding), answers the log-in, log-out and who-am-I endpoints, and names the request's identity, or
// answers 401/403 itself. Static files are public (they hold no data); the page itself leads to the log-in.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../logging/logger.js";
import type { Role, UiAccess } from "./access-config.js";
import { RequestIdentity, peerAddress, type Identity, type Refusal } from "./request-identity.js";
import { isServedHost } from "./served-hosts.js";

/** Pages and files anyone may load: the log-in page and what it needs. */
const PUBLIC_PATHS = new Set(["/login.html", "/login.js", "/style.css", "/favicon.ico"]);
/** Files of the page: no data in them, served to anyone (the page's data comes through /api/). */
const PAGE_ASSET = /^\/(?:[\w-]+\.(?:js|css)|vendor\/ace\/[\w.-]+)$/;

export interface GateIo {
  readonly sendJson: (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers?: Record<string, string>,
  ) => true;
  readonly readBody: (req: IncomingMessage) => Promise<string>;
  /** Throws the server's 403/415 for a cross-site or non-JSON write. */
  readonly checkWriteRequest: (req: IncomingMessage) => void;
}

export class AccessGate {
  readonly #access: UiAccess;
  readonly #identity: RequestIdentity;
  readonly #log: Logger;
  readonly #io: GateIo;

  constructor(access: UiAccess, log: Logger, io: GateIo) {
    this.#access = access;
    this.#identity = new RequestIdentity(access);
    this.#log = log;
    this.#io = io;
  }

  get mode(): UiAccess["mode"] {
    return this.#access.mode;
  }

  /**
   * `answered`: the gate has answered the request (refused it, or a log-in, log-out or who-am-I). Otherwise
   * `identity` is who may go on to the routes, or null for a public file to be served without one.
   */
  async admit(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<{ identity: Identity | null; answered: boolean }> {
    const method = req.method ?? "GET";
    if (!isServedHost(req.headers.host, this.#access.allowedHosts)) {
      this.#io.sendJson(res, 421, {
        ok: false,
        error: `this UI does not serve the host name ${JSON.stringify(req.headers.host ?? "")}; add it to ui_allowed_hosts`,
      });
      return { identity: null, answered: true };
    }
    if (method === "POST" && path === "/api/login")
      return { identity: null, answered: await this.#logIn(req, res) };

    const found = this.#identity.identify(req);
    if (method === "POST" && path === "/api/logout") {
      this.#io.checkWriteRequest(req);
      const identity = found.ok ? found.identity : null;
      if (identity) this.#log.info("ui log-out", { user: identity.name });
      this.#io.sendJson(res, 200, { ok: true }, { "set-cookie": this.#identity.logOut(identity) });
      return { identity: null, answered: true };
    }
    if (method === "GET" && path === "/api/me") {
      if (!found.ok) this.#refuse(res, found);
      else this.#io.sendJson(res, 200, this.#me(found.identity));
      return { identity: null, answered: true };
    }
    if (found.ok) return { identity: found.identity, answered: false };
    if (method === "GET" && (PUBLIC_PATHS.has(path) || PAGE_ASSET.test(path))) {
      return { identity: null, answered: false };
    }
    if (method === "GET" && (path === "/" || path === "/index.html") && found.status === 401) {
      res.writeHead(303, { location: "/login.html", "cache-control": "no-store" }).end();
      return { identity: null, answered: true };
    }
    this.#refuse(res, found);
    return { identity: null, answered: true };
  }

  /** What the page shows of the identity, and what it may do. */
  #me(identity: Identity): Record<string, unknown> {
    return {
      ok: true,
      user: identity.name,
      role: identity.role,
      via: identity.via,
      mode: this.#access.mode,
      ...(identity.session ? { expiresAt: new Date(identity.session.expiresAt).toISOString() } : {}),
    };
  }

  #refuse(res: ServerResponse, refusal: Refusal): void {
    this.#io.sendJson(
      res,
      refusal.status,
      {
        ok: false,
        error: refusal.reason,
        login: this.#access.mode === "password" ? "/login.html" : undefined,
      },
      refusal.retryAfterS === undefined ? {} : { "retry-after": String(refusal.retryAfterS) },
    );
  }

  async #logIn(req: IncomingMessage, res: ServerResponse): Promise<true> {
    this.#io.checkWriteRequest(req);
    let body: unknown;
    try {
      body = JSON.parse(await this.#io.readBody(req));
    } catch {
      body = null;
    }
    const { user, password } = (body ?? {}) as { user?: unknown; password?: unknown };
    if (typeof user !== "string" || typeof password !== "string") {
      return this.#io.sendJson(res, 400, { ok: false, error: 'send {"user": "...", "password": "..."}' });
    }
    const result = await this.#identity.logIn(user, password, req);
    const address = peerAddress(req);
    if (!result.ok) {
      // The name as typed may be a password typed in the wrong field: only its length is logged.
      this.#log.warn("ui log-in refused", { nameLength: user.length, address, status: result.status });
      this.#refuse(res, result);
      return true;
    }
    this.#log.info("ui log-in", { user: result.identity.name, role: result.identity.role, address });
    return this.#io.sendJson(res, 200, this.#me(result.identity), { "set-cookie": result.setCookie });
  }
}

/** The role a route needs, checked against the identity: throws nothing, answers whether it may. */
export function mayWrite(identity: Identity): boolean {
  return roleRank(identity.role) >= roleRank("editor");
}

function roleRank(role: Role): number {
  return role === "editor" ? 1 : 0;
}
