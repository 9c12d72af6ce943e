# The perfstack CLI image (docker-compose.yml tags it perfstack:local): the reference service, the
# pg-stats exporter and perfstack's load engine (`run`, for the compose `loadgen` profile and the
# Kubernetes Indexed Job in provisioning/kubernetes/) all run from it.
# The engine needs loadgen/, the k6 scenarios in k6/ with the generated k6/thresholds.json, and these
# runtime dependencies: tsx, typescript and esbuild (which brings its platform binary, @esbuild/linux-*,
# as an optional dependency that `npm ci` installs). Chromium is not in the image: the browser
# scenario needs the native stack (`npm start`).
# Node 22: an LTS line with security support until April 2027 (Node 20's ends in April 2026).
FROM node:22-bookworm-slim
WORKDIR /opt/perfstack
COPY package.json package-lock.json ./
# esbuild bundles every k6 script: fail the build here, not the first load test, if its binary is missing.
RUN npm ci --omit=dev --ignore-scripts \
  && node -e "require('esbuild').transformSync('const x: number = 1', { loader: 'ts' })"
COPY . .
USER node
ENTRYPOINT ["node", "bin/perfstack.js"]
