// The ceiling for JavaScript evaluation: the same filter sources run unsandboxed in V8, on the same event
// text, with the same seed-compatible event API (Java-style getters and map/list methods). The API is put on
// the prototypes of a separate realm, so JSON.parse there yields objects that have it at no cost per event.
// (Descriptors get a null prototype: an inherited `get` would turn them into accessors.)
import vm from "node:vm";

// One IIFE, no globals: Node's contextified global intercepts global stores and builds property descriptors
// that would inherit the patched Object.prototype.
const REALM_SETUP = `(function () {
  'use strict';
  var def = function (o, k, v) { Object.defineProperty(o, k, { __proto__: null, value: v, writable: true, enumerable: false, configurable: true }); };
  var OP = Object.prototype, AP = Array.prototype, SP = String.prototype, has = OP.hasOwnProperty;
  def(OP, 'get', function (k) { return has.call(this, k) ? this[k] : null; });
  def(OP, 'containsKey', function (k) { return has.call(this, k); });
  def(OP, 'getOrDefault', function (k, d) { return has.call(this, k) ? this[k] : d; });
  def(OP, 'size', function () { return Object.keys(this).length; });
  def(OP, 'isEmpty', function () { return Object.keys(this).length === 0; });
  def(OP, 'keySet', function () { return Object.keys(this); });
  def(AP, 'get', function (i) { return this[i]; });
  def(AP, 'size', function () { return this.length; });
  def(AP, 'contains', function (x) { return this.indexOf(x) >= 0; });
  def(SP, 'equals', function (x) { return String(this) === x; });
  ['schema_version','event_id','system_type','system_name','game','market','player_id','event_type','event_name',
   'event_scope','created_at','received_at','hostname','context','data'].forEach(function (f) {
    var camel = f.replace(/_([a-z])/g, function (_, c) { return c.toUpperCase(); });
    def(OP, 'get' + camel[0].toUpperCase() + camel.slice(1), function () { var v = this[f]; return v === undefined ? null : v; });
    if (camel !== f) Object.defineProperty(OP, camel, { __proto__: null, get: function () { return this[f]; }, enumerable: false, configurable: true });
  });
  var indirectEval = eval;
  return function countMatches(source, events) {
    var filter = indirectEval('(' + source + ')');
    var n = 0;
    for (var i = 0; i < events.length; i++) if (filter(JSON.parse(events[i])) === true) n++;
    return n;
  };
})()`;

export class V8Reference {
  readonly #countMatches: (source: string, events: readonly string[]) => number;

  constructor() {
    const context = vm.createContext({});
    this.#countMatches = vm.runInContext(REALM_SETUP, context) as (
      source: string,
      events: readonly string[],
    ) => number;
  }

  /** How many of `events` the filter matches (parse and filter per event, all inside the realm). */
  countMatches(source: string, events: readonly string[]): number {
    return this.#countMatches(source, events);
  }
}
