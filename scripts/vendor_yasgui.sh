#!/usr/bin/env bash
# Re-vendor YASGUI (npm @zazuko/yasgui, MIT) into the web catalogue's static files, so the
# SPARQL editor is served offline. Development time only: needs npm and the npm registry.
#   scripts/vendor_yasgui.sh            # the latest release
#   scripts/vendor_yasgui.sh 4.6.2      # a given version
# Then run tests/web/test_browser.py (the editor test drives the vendored build).
set -euo pipefail
version="${1:-latest}"
here="$(cd "$(dirname "$0")/.." && pwd)"
target="$here/src/ngff_kg/web/static/vendor/yasgui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "@zazuko/yasgui@$version" --silent >/dev/null && tar xzf ./*.tgz)
resolved="$(node -p "require('$work/package/package.json').version")"
license="$(node -p "require('$work/package/package.json').license")"
[ "$license" = "MIT" ] || { echo "license is now $license: check before vendoring" >&2; exit 1; }
mkdir -p "$target"
cp "$work/package/build/yasgui.min.js" "$work/package/build/yasgui.min.css" "$target/"
# the source maps' last line would make browsers fetch the .map files: drop the references
sed -i '/^\/\/# sourceMappingURL=/d; s#/\*\# sourceMappingURL=[^*]*\*/##' "$target/yasgui.min.js" "$target/yasgui.min.css"
sha="$(cd "$target" && sha256sum yasgui.min.js yasgui.min.css)"
cat > "$target/PROVENANCE.md" <<NOTE
# YASGUI, vendored

- package: npm \`@zazuko/yasgui\` $resolved (license: $license; see LICENSE), files
  \`build/yasgui.min.js\` and \`build/yasgui.min.css\`, source-map references removed.
- vendored on $(date -u +%Y-%m-%d) by \`scripts/vendor_yasgui.sh $version\`.
- to update: run \`scripts/vendor_yasgui.sh [version]\`, then \`tests/web/test_browser.py\`.
- sha256:
\`\`\`
$sha
\`\`\`
NOTE
echo "vendored @zazuko/yasgui $resolved into $target"
