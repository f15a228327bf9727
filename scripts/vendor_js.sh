#!/usr/bin/env bash
# Refresh the vendored JavaScript under book/assets/ from the npm registry:
#   MathJax 3.2.2 (tex-mml-chtml.js and its woff-v2 fonts)
#   @jupyter-widgets/html-manager 1.0.15 (dist/embed.js)
# The built book then loads no script from the web.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MATHJAX_VERSION=3.2.2
WIDGETS_VERSION=1.0.15
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-save --ignore-scripts --no-audit --no-fund \
  "mathjax@${MATHJAX_VERSION}" "@jupyter-widgets/html-manager@${WIDGETS_VERSION}" >/dev/null
dest="$here/book/assets"
rm -rf "$dest/mathjax" "$dest/widgets"
mkdir -p "$dest/mathjax/output/chtml/fonts" "$dest/widgets"
mj="$tmp/node_modules/mathjax"
cp "$mj/es5/tex-mml-chtml.js" "$dest/mathjax/"
cp -r "$mj/es5/output/chtml/fonts/woff-v2" "$dest/mathjax/output/chtml/fonts/"
cp "$mj/LICENSE" "$dest/mathjax/LICENSE"
wm="$tmp/node_modules/@jupyter-widgets/html-manager"
# embed.js and the icon fonts it references by relative path
find "$wm/dist" -maxdepth 1 -type f ! -name "*.map" ! -name "*amd*" -exec cp {} "$dest/widgets/" \;
node -e 'const p=require(process.argv[1]);console.log(p.name+" "+p.version+" is licensed under "+p.license+"; see embed.js.LICENSE.txt for bundled notices.")' "$wm/package.json" > "$dest/widgets/LICENSE"
cat > "$dest/VERSIONS" <<EOV
mathjax ${MATHJAX_VERSION}
@jupyter-widgets/html-manager ${WIDGETS_VERSION}
EOV
echo "vendored into $dest"
