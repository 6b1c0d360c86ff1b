// Shrinks the interface between the wasm and its JS glue (release builds, after trunk's own
// wasm-opt), with binaryen's tools from tools/node_modules:
// 1. The JS classes this page never constructs go from the glue: wasm-streams'
//    IntoUnderlying{Source,ByteSource,Sink}, which Leptos always links (through server_fn)
//    although a client-only app never streams. Their wasm exports are already kept out by the
//    linker (tools/wasm-ld.sh, which lets it drop their code and data too); should a build
//    bypass that linker, wasm-metadce still drops the exports here (but not their data).
// 2. wasm-opt --minify-imports-and-exports-and-modules renames every import and export
//    (`__wbg_setAttribute_2f1c…` becomes `a`); the glue is rewritten with the same mapping.
// The hashed, incompressible names are a few kilobytes of every customer's download.
import { readFileSync, writeFileSync, readdirSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { setIntegrity } from "./integrity.mjs";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "node_modules", ".bin");
// As in index.html's data-wasm-opt-params: the features the wasm uses.
const FEATURES = [
  "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-reference-types", "--enable-multivalue", "--enable-mutable-globals",
];
const UNUSED_EXPORT = /^(__wbg_)?intounderlying/;

/// The names of a wasm module's exports (its export section, id 7).
function exportNames(bytes) {
  let at = 8;
  const leb = () => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return value;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    if (id !== 7) { at += size; continue; }
    const names = [];
    for (let n = leb(); n > 0; n--) {
      const length = leb();
      names.push(Buffer.from(bytes.subarray(at, at + length)).toString("utf8"));
      at += length + 1;
      leb();
    }
    return names;
  }
  return [];
}

function dropUnusedExports(wasm) {
  const names = exportNames(readFileSync(wasm));
  const kept = names.filter((n) => !UNUSED_EXPORT.test(n));
  if (kept.length === names.length) return;
  const graph = [
    { name: "glue", root: true, reaches: kept.map((n) => "e:" + n) },
    ...names.map((n) => ({ name: "e:" + n, export: n })),
  ];
  const work = mkdtempSync(join(tmpdir(), "b24pay-metadce-"));
  const file = join(work, "graph.json");
  writeFileSync(file, JSON.stringify(graph));
  execFileSync(join(BIN, "wasm-metadce"), [...FEATURES, wasm, "--graph-file", file, "-o", wasm], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  rmSync(work, { recursive: true });
  console.log(`dropped ${names.length - kept.length} unused exports from ${wasm}`);
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/// The index just past the bracket that closes the one at `open` (`{…}` or `(…)`).
function closing(js, open) {
  const [inc, dec] = js[open] === "{" ? ["{", "}"] : ["(", ")"];
  let depth = 0;
  for (let i = open; i < js.length; i++) {
    if (js[i] === inc) depth++;
    else if (js[i] === dec && --depth === 0) return i + 1;
  }
  throw new Error("unbalanced glue");
}

/// Removes `export class IntoUnderlying…{…}` and each `Symbol.dispose&&(IntoUnderlying…)`
/// (which terser may move away from its class) from the glue.
function dropUnusedClasses(js) {
  for (const marker of ["export class IntoUnderlying", "Symbol.dispose&&(IntoUnderlying"]) {
    for (let start; (start = js.indexOf(marker)) >= 0; ) {
      const open = marker.startsWith("export") ? js.indexOf("{", start) : start + 16;
      let end = closing(js, open);
      if (js[end] === ";" || js[end] === ",") end++;
      js = js.slice(0, start) + js.slice(end);
    }
  }
  js = dropRegistries(js);
  if (/intounderlying/i.test(js)) throw new Error("IntoUnderlying still in the glue");
  return js;
}

// The classes' FinalizationRegistry constants, which terser moves out of the classes into one
// `const` list: `i="undefined"==typeof FinalizationRegistry?{…}:new FinalizationRegistry(n=>
// T.__wbg_intounderlyingsink_free(n,1))`. Their exports are gone from the wasm (tools/wasm-ld.sh).
const REGISTRY =
  /(\w+)="undefined"==typeof FinalizationRegistry\?\{register:\(\)=>\{\},unregister:\(\)=>\{\}\}:new FinalizationRegistry\(\w+=>\w+\.__wbg_intounderlying\w*_free\(\w+,1\)\)/;

function dropRegistries(js) {
  for (let m; (m = REGISTRY.exec(js)); ) {
    let start = m.index;
    let end = start + m[0].length;
    if (js[start - 1] === ",") start--;
    else if (js[end] === ",") end++;
    else if (js.slice(start - 6, start) === "const " && js[end] === ";") [start, end] = [start - 6, end + 1];
    else throw new Error("a FinalizationRegistry of IntoUnderlying… declared unexpectedly in the glue");
    js = js.slice(0, start) + js.slice(end);
  }
  return js;
}

function minifyNames(wasm, glue) {
  const out = execFileSync(
    join(BIN, "wasm-opt"),
    [
      ...FEATURES, "--minify-imports-and-exports-and-modules", "--strip-producers",
      "--strip-target-features", wasm, "-o", wasm,
    ],
    { encoding: "utf8" },
  );
  const map = JSON.parse(out.slice(out.indexOf("{")));
  let js = readFileSync(glue, "utf8");
  const modules = new Set();
  for (const [module, old, now] of map.imports) {
    modules.add(module);
    // Keys of the imports object: `{__proto__:null,__wbg_foo_1a2b:function(…){…},…}`.
    js = js.replace(new RegExp(`([{,])${escape(old)}:`), `$1${now}:`);
  }
  // Every module became "a".
  for (const module of modules) js = js.replace(`"${module}":`, "a:");
  for (const [old, now] of map.exports) {
    js = js.replace(new RegExp(`\\.${escape(old)}(?![\\w$])`, "g"), "." + now);
  }
  writeFileSync(glue, dropUnusedClasses(js));
  console.log(`minified ${map.imports.length} import and ${map.exports.length} export names`);
}

export function minifyWasm(dir) {
  const wasmName = readdirSync(dir).find((f) => f.endsWith("_bg.wasm"));
  if (!wasmName) return;
  const glueName = wasmName.replace(/_bg\.wasm$/, ".js");
  const wasm = join(dir, wasmName);
  const glue = join(dir, glueName);
  dropUnusedExports(wasm);
  minifyNames(wasm, glue);
  const html = join(dir, "index.html");
  let page = readFileSync(html, "utf8");
  page = setIntegrity(page, wasmName, readFileSync(wasm));
  page = setIntegrity(page, glueName, readFileSync(glue));
  writeFileSync(html, page);
}
