// Which settings hold a secret (by key: librdkafka's passwords, client secrets, private keys, JAAS and OAuth
// configuration, and this project's own secrets), and the same settings with those values hidden, for
// anything that shows settings: messages, logs, metrics.

/** A key whose value is a secret: `sasl.password`, `ssl.key.password`, `ssl.keystore.password`,
 * `sasl.oauthbearer.client.secret`, `ssl.key.pem`, `sasl.oauthbearer.config`, `ui_session_secret`, ... */
const SECRET_KEY =
  /password|passphrase|secret|credential|token|jaas|private[._]?key|(^|[._])key\.pem$|oauthbearer\.config$/i;

/** What a secret's value is shown as. */
export const REDACTED = "[redacted]";

/** Whether the setting named `key` (a librdkafka property or a configuration key) holds a secret. */
export function isSecretSetting(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of `settings` with the value of every secret key replaced by REDACTED. */
export function redactSettings<T extends Record<string, unknown>>(settings: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) out[key] = isSecretSetting(key) ? REDACTED : value;
  return out as T;
}

/**
 * `value` as configuration problems describe it: its type and, unless `key` holds a secret or `whole` says the
 * value may hold some (a map of settings), the value itself.
 */
export function describeValue(key: string, value: unknown, whole = false): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (whole || isSecretSetting(key))
    return `${typeof value === "object" ? "an" : "a"} ${typeof value} (${REDACTED})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
