// Which Host headers the UI answers: loopback names, IP literals and the configured names. A page on any other
// name that resolves to this machine (DNS rebinding) sends its own name and is refused before anything runs.
import { isIP } from "node:net";

/** The host name of a Host header or an Origin's host, lower-case, without port or IPv6 brackets. */
export function hostNameOf(host: string): string | null {
  const text = host.trim().toLowerCase();
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return null;
    const rest = text.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return null;
    return text.slice(1, end);
  }
  const m = /^([^:]+)(:\d{1,5})?$/.exec(text);
  return m?.[1] ?? null;
}

/** localhost, *.localhost (RFC 6761) and the loopback addresses. */
export function isLoopbackName(name: string): boolean {
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  return name === "::1" || name === "::ffff:127.0.0.1";
}

/**
 * True when the UI serves this Host header. IP literals are accepted: a page of another site cannot send one
 * that is not its own origin, so they carry no rebinding risk.
 */
export function isServedHost(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined) return false;
  const name = hostNameOf(host);
  if (name === null || name === "") return false;
  return isLoopbackName(name) || isIP(name) !== 0 || allowed.has(name);
}
