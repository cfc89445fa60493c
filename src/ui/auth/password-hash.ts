// Passwords of the UI's users as the configuration holds them: scrypt hashes, never the password. Checking
// takes the same time whether the user exists or not, and compares in constant time.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** N = 2^14, r = 8, p = 1: 16 MiB and about 50 ms per check, the parameters OWASP names for scrypt. */
const DEFAULT_PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

export interface PasswordHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** The hash's parts, or a reason it is not one (the reason never repeats the text: it is secret-like). */
export function parsePasswordHash(text: string): PasswordHash | string {
  const m = FORMAT.exec(text);
  if (!m) return "not a scrypt hash (scrypt$N$r$p$salt$hash): make one with `rtcrm ui password`";
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || (N & (N - 1)) !== 0) return "scrypt N must be a power of two";
  if (r < 1 || r > 32 || p < 1 || p > 16) return "scrypt r must be 1-32 and p 1-16";
  if (128 * N * r > 256 * 1024 * 1024) return "scrypt N × r needs more than 256 MiB per check";
  const salt = Buffer.from(m[4] as string, "base64");
  const hash = Buffer.from(m[5] as string, "base64");
  if (salt.length < 16) return "the salt is shorter than 16 bytes";
  if (hash.length < 16 || hash.length > 64) return "the hash must be 16 to 64 bytes";
  return { N, r, p, salt, hash };
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = DEFAULT_PARAMS;
  const hash = await scrypt(password, salt, KEY_BYTES, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** A hash that matches no password: checked against when the user is unknown, so timing tells nothing. */
const DECOY: PasswordHash = {
  ...DEFAULT_PARAMS,
  salt: randomBytes(16),
  hash: randomBytes(KEY_BYTES),
};

/** True when `password` is the one `expected` was made from; `expected` undefined (no such user) is false. */
export async function verifyPassword(password: string, expected: PasswordHash | undefined): Promise<boolean> {
  const h = expected ?? DECOY;
  const actual = await scrypt(password, h.salt, h.hash.length, {
    N: h.N,
    r: h.r,
    p: h.p,
    maxmem: 256 * h.N * h.r + 1024 * 1024,
  });
  return timingSafeEqual(actual, h.hash) && expected !== undefined;
}
