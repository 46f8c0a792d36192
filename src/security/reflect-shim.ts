/**
 * The smallest Reflect-metadata polyfill that @peculiar/x509 needs. That library registers its
 * algorithm providers through tsyringe, which refuses to load unless `Reflect.getMetadata`
 * exists, and only ever calls getMetadata / getOwnMetadata / defineMetadata (no decorators
 * metadata is emitted by its build). Rather than add a dependency for three functions, we
 * install them here, once, before x509 is imported (pki.ts imports this module first; ESM
 * evaluates imports in order). If a real polyfill (reflect-metadata) is already loaded, this
 * does nothing.
 * @module
 */

type MetadataMap = Map<unknown, unknown>;
type ReflectWithMetadata = typeof Reflect & {
  getMetadata?: (key: unknown, target: object, prop?: PropertyKey) => unknown;
  getOwnMetadata?: (key: unknown, target: object, prop?: PropertyKey) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object, prop?: PropertyKey) => void;
};

const R = Reflect as ReflectWithMetadata;

if (typeof R.getMetadata !== 'function') {
  // target → (property key or '' for the target itself) → metadata key → value
  const store = new WeakMap<object, Map<PropertyKey, MetadataMap>>();
  const own = (target: object, prop: PropertyKey | undefined, create: boolean): MetadataMap | undefined => {
    let byProp = store.get(target);
    if (byProp === undefined) {
      if (!create) return undefined;
      byProp = new Map();
      store.set(target, byProp);
    }
    const k = prop ?? '';
    let m = byProp.get(k);
    if (m === undefined && create) {
      m = new Map();
      byProp.set(k, m);
    }
    return m;
  };
  R.defineMetadata = (key, value, target, prop) => {
    own(target, prop, true)!.set(key, value);
  };
  R.getOwnMetadata = (key, target, prop) => own(target, prop, false)?.get(key);
  R.getMetadata = (key, target, prop) => {
    // Like reflect-metadata: walk the prototype chain.
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t)) {
      const m = own(t, prop, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
}

export {};
