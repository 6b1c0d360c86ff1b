// Rewrites the `integrity` attribute of every tag of index.html that loads `name` (`src=/name`
// or `href=/name`, quoted or not) for the file's new content.
import { createHash } from "node:crypto";

export function setIntegrity(page, name, content) {
  const integrity = "sha384-" + createHash("sha384").update(content).digest("base64");
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const tag = new RegExp(`<[^>]*(?:src|href)=["']?[^"' >]*/${escaped}["' >][^>]*>`, "g");
  return page.replace(tag, (t) =>
    t.replace(/integrity=["']?sha\d+-[A-Za-z0-9+/=]+["']?/, `integrity="${integrity}"`),
  );
}
