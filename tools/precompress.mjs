// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip, level 9) next to every
// compressible file of the build, so the companion serves them as they are (tower-http's
// ServeDir, `precompressed_br`/`precompressed_gzip`) instead of compressing at every start.
// Not index.html: the companion rewrites it with the deployment's settings and compresses it
// itself. A compressed copy no smaller than its file is not written.
import { readFileSync, writeFileSync, readdirSync, statSync, rmSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const COMPRESSIBLE = /\.(js|mjs|wasm|css|json|svg|txt|map)$/;

export function precompress(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      precompress(path);
      continue;
    }
    // Left over from an earlier build in the same directory: rewritten below if still needed.
    if (name.endsWith(".br") || name.endsWith(".gz")) {
      rmSync(path);
      continue;
    }
    if (!COMPRESSIBLE.test(name)) continue;
    const data = readFileSync(path);
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_LGWIN]: 22,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    const gz = gzipSync(data, { level: 9 });
    if (br.length < data.length) writeFileSync(path + ".br", br);
    if (gz.length < data.length) writeFileSync(path + ".gz", gz);
  }
}
