/**
 * @kubernetes/client-node 2.x bundles undici 8, which needs two Node 22 APIs at load time
 * (zlib's zstd decompressor, worker_threads.markAsUncloneable, Promise.withResolvers). On Node 20 they are
 * missing and the package cannot even be imported. This fills them in before it loads:
 * zstd responses are never requested from the Kubernetes API (the client asks for JSON), and
 * markAsUncloneable is only a structured-clone hint. Import this module first.
 */
// require(), not import: the mutable CommonJS module objects are what undici reads.
const zm = require('node:zlib') as Record<string, unknown>;
const wm = require('node:worker_threads') as Record<string, unknown>;
for (const target of [zm]) {
  if (typeof target.createZstdDecompress !== 'function') {
    target.createZstdDecompress = () => {
      throw new Error('zstd decompression needs Node 22 or later');
    };
  }
}
for (const target of [wm]) {
  if (typeof target.markAsUncloneable !== 'function') {
    target.markAsUncloneable = () => undefined;
  }
}
// Used by undici 8's request path.
const P = Promise as unknown as { withResolvers?: unknown };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>() => {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
export {};
