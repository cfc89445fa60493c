// rtcrm prelude: runs (strict mode) in every filter context before the
// filter itself. It gives events the API of the reference system's Java event
// object, as Nashorn exposed it:
//   - getters getSchemaVersion() ... getData() and camelCase bean properties
//     (event.playerId) on the prototype of the top-level event object;
//   - java.util.Map-like methods on every object of the event (get,
//     containsKey, getOrDefault, containsValue, size, isEmpty, keySet, values,
//     entrySet), via a prototype the engine gives objects parsed from the event;
//   - java.util.List-like methods on every array (get, size, isEmpty,
//     contains);
//   - a few java.lang.String methods on strings (equals, equalsIgnoreCase,
//     contains, isEmpty).
// Everything is defined non-enumerable (Object.keys / JSON.stringify / for-in
// see only the data) and writable (so `obj.size = 3` in a filter still
// creates an own property instead of failing in strict mode).
// Limitation: a data key named like a method (e.g. "get") shadows that method
// on that object, since keys are own properties.
//
// The completion value of this script is [eventProto, fixBigInts, mapProto, lockdown, freezeEvent]; the engine
// keeps them and never exposes them on the global object. lockdown and freezeEvent serve only the context that
// stateless filters share (wasm/runtime.c, shared_ctx).
(function () {
  "use strict";
  var O = Object;
  var OP = O.prototype;
  var AP = Array.prototype;
  var SP = String.prototype;
  var apply = Reflect.apply;
  var defineProperty = O.defineProperty;
  var keys = O.keys;
  var create = O.create;
  var hasOwn = OP.hasOwnProperty;
  var makeBigInt = BigInt;
  var strSlice = SP.slice;
  var strCharCodeAt = SP.charCodeAt;
  var toLowerCase = SP.toLowerCase;
  var indexOf = SP.indexOf;
  var includes = AP.includes;

  function def(target, name, value) {
    defineProperty(target, name, { value: value, writable: true, enumerable: false, configurable: false });
  }
  function own(obj, k) {
    return apply(hasOwn, obj, [k]);
  }

  // ---- java.util.Map: the prototype of every object in the event (the engine
  // makes JSON.parse of the event create objects with it; Object.prototype
  // itself stays untouched, so property descriptors, Proxy handlers and
  // object literals in filters behave as usual)
  var MapProto = create(OP);
  def(MapProto, "get", function get(key) {
    return own(this, key) ? this[key] : null;
  });
  def(MapProto, "containsKey", function containsKey(key) {
    return own(this, key);
  });
  def(MapProto, "getOrDefault", function getOrDefault(key, dflt) {
    return own(this, key) ? this[key] : dflt;
  });
  def(MapProto, "containsValue", function containsValue(v) {
    var ks = keys(this);
    for (var i = 0; i < ks.length; i++) if (this[ks[i]] === v) return true;
    return false;
  });
  def(MapProto, "size", function size() {
    return keys(this).length;
  });
  def(MapProto, "isEmpty", function isEmpty() {
    return keys(this).length === 0;
  });
  def(MapProto, "keySet", function keySet() {
    return keys(this);
  });
  def(MapProto, "values", function values() {
    var ks = keys(this);
    var out = [];
    for (var i = 0; i < ks.length; i++) out[i] = this[ks[i]];
    return out;
  });
  var EntryProto = create(OP);
  def(EntryProto, "getKey", function getKey() {
    return this.key;
  });
  def(EntryProto, "getValue", function getValue() {
    return this.value;
  });
  def(MapProto, "entrySet", function entrySet() {
    var ks = keys(this);
    var out = [];
    for (var i = 0; i < ks.length; i++) {
      var e = create(EntryProto);
      e.key = ks[i];
      e.value = this[ks[i]];
      out[i] = e;
    }
    return out;
  });

  // ---- java.util.List on arrays (Array.prototype.values stays the JS iterator)
  def(AP, "get", function get(index) {
    var i = +index;
    if (!(i >= 0 && i < this.length && i === (i | 0))) {
      throw new RangeError("Index " + index + " out of bounds for length " + this.length);
    }
    return this[i];
  });
  def(AP, "size", function size() {
    return this.length;
  });
  def(AP, "isEmpty", function isEmpty() {
    return this.length === 0;
  });
  def(AP, "contains", function contains(x) {
    return apply(includes, this, [x]);
  });

  // ---- java.lang.String
  def(SP, "equals", function equals(x) {
    return String(this) === x;
  });
  def(SP, "equalsIgnoreCase", function equalsIgnoreCase(x) {
    return typeof x === "string" && apply(toLowerCase, String(this), []) === apply(toLowerCase, x, []);
  });
  def(SP, "contains", function contains(x) {
    return apply(indexOf, String(this), [String(x)]) !== -1;
  });
  def(SP, "isEmpty", function isEmpty() {
    return String(this).length === 0;
  });

  // ---- the event object
  var FIELDS = [
    "schema_version",
    "event_id",
    "system_type",
    "system_name",
    "game",
    "market",
    "player_id",
    "event_type",
    "event_name",
    "event_scope",
    "created_at",
    "received_at",
    "hostname",
    "context",
    "data",
  ];
  var EventProto = create(MapProto);
  function camel(name) {
    var out = "";
    for (var i = 0; i < name.length; i++) {
      if (name[i] === "_" && i + 1 < name.length) {
        out += name[i + 1].toUpperCase();
        i++;
      } else {
        out += name[i];
      }
    }
    return out;
  }
  function addField(field) {
    var c = camel(field);
    var getter = function () {
      var v = this[field];
      return v === undefined ? null : v;
    };
    def(EventProto, "get" + c[0].toUpperCase() + c.slice(1), getter);
    if (c !== field) {
      var setter = function (v) {
        this[field] = v;
      };
      defineProperty(EventProto, c, { get: getter, set: setter, enumerable: false, configurable: false });
    }
  }
  for (var i = 0; i < FIELDS.length; i++) addField(FIELDS[i]);

  // ---- big integers: the host rewrites integer literals beyond 2^53 into
  // strings "\u0000rtcrm:bigint:<digits>"; turn them into BigInt in place.
  var TAG = "\u0000rtcrm:bigint:";
  var TAGLEN = TAG.length;
  function isTagged(s) {
    if (s.length <= TAGLEN) return false;
    for (var i = 0; i < TAGLEN; i++) {
      if (apply(strCharCodeAt, s, [i]) !== apply(strCharCodeAt, TAG, [i])) return false;
    }
    return true;
  }
  function fix(v) {
    if (typeof v === "string") return isTagged(v) ? makeBigInt(apply(strSlice, v, [TAGLEN])) : v;
    if (v !== null && typeof v === "object") {
      var ks = keys(v);
      for (var i = 0; i < ks.length; i++) {
        var x = v[ks[i]];
        if (x !== null && (typeof x === "object" || typeof x === "string")) v[ks[i]] = fix(x);
      }
    }
    return v;
  }
  function fixBigInts(event) {
    fix(event);
  }

  // ---- the shared context of stateless filters
  var freeze = O.freeze;
  var getPrototypeOf = O.getPrototypeOf;
  var getOwnPropertyDescriptor = O.getOwnPropertyDescriptor;
  var ownKeys = Reflect.ownKeys;
  // Every object reachable from the global object and the prelude's prototypes (values, accessors, prototypes),
  // frozen: nothing a filter can reach there can be changed, so no call can leave anything for the next one.
  function lockdown() {
    var stack = [globalThis, EventProto, MapProto, EntryProto];
    var seen = new Set();
    while (stack.length > 0) {
      var o = stack.pop();
      if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) continue;
      seen.add(o);
      freeze(o);
      stack.push(getPrototypeOf(o));
      var ks = ownKeys(o);
      for (var i = 0; i < ks.length; i++) {
        var d = getOwnPropertyDescriptor(o, ks[i]);
        if (d === undefined) continue;
        if ("value" in d) stack.push(d.value);
        else stack.push(d.get, d.set);
      }
    }
  }
  // The event, decoded once for all stateless filters of one event: frozen (its prototypes are already).
  function freezeEvent(event) {
    var stack = [event];
    while (stack.length > 0) {
      var o = stack.pop();
      freeze(o);
      var ks = keys(o);
      for (var i = 0; i < ks.length; i++) {
        var v = o[ks[i]];
        if (v !== null && typeof v === "object") stack.push(v);
      }
    }
  }

  return [EventProto, fixBigInts, MapProto, lockdown, freezeEvent];
})();
