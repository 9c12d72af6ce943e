# The perfstack CLI image: the reference service and the pg-stats exporter run from it.
FROM node:20-bookworm-slim
WORKDIR /opt/perfstack
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY . .
USER node
ENTRYPOINT ["node", "bin/perfstack.js"]
