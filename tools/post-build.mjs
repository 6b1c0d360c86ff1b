// Trunk's post_build hook (Trunk.toml), on the build's staging directory, in this order (trunk
// runs the hooks of one stage concurrently, so the order lives here):
// 1. release builds only: terser minifies the JS glue (minify-js.mjs), then the wasm's imports
//    and exports get short names in the wasm and the glue (minify-wasm.mjs);
// 2. every build: the language catalogues as arrays of texts (catalogues.mjs), then a .br and
//    a .gz next to each compressible file (precompress.mjs).
import { serveCatalogues } from "./catalogues.mjs";
import { minifyJs } from "./minify-js.mjs";
import { minifyWasm } from "./minify-wasm.mjs";
import { precompress } from "./precompress.mjs";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("TRUNK_STAGING_DIR is not set: run this as a trunk hook");
if (process.env.TRUNK_PROFILE === "release") {
  await minifyJs(dir);
  minifyWasm(dir);
}
serveCatalogues(dir);
precompress(dir);
