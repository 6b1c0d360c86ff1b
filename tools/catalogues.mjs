// Serves each language catalogue of the build (`locales/<tag>.json`, written as
// `{"KeyName": "text", …}` in the widget's key order) as the array `["<list id>", "text", …]`:
// the key names are then neither downloaded by customers nor needed in the wasm. The list id
// is FNV-1a (32 bits, hexadecimal) of the names in order, each followed by a comma — what
// src/i18n/catalogue.rs computes at compile time for its own keys (`Key::LIST_ID`), so a
// catalogue for another list of keys is refused (the form shows in English) instead of
// showing texts in the wrong places.
import { readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

export function listId(names) {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(names.map((n) => n + ",").join(""), "utf8")) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash.toString(16);
}

export function serveCatalogues(dir) {
  const locales = join(dir, "locales");
  if (!existsSync(locales)) return;
  for (const name of readdirSync(locales).filter((f) => f.endsWith(".json"))) {
    const path = join(locales, name);
    const catalogue = JSON.parse(readFileSync(path, "utf8"));
    if (Array.isArray(catalogue)) continue;
    const names = Object.keys(catalogue);
    writeFileSync(path, JSON.stringify([listId(names), ...names.map((n) => catalogue[n])]));
  }
}
