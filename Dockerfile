# The Coterie service image. Neo4j runs in its own container (docker-compose.yml): the
# image has no embedded launcher (neo4j-local/), so it needs NEO4J_URI and says so without.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# swagger-ui-dist's @scarf/scarf reports each install unless told not to (package.json's
# scarfSettings says so too).
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY cypher ./cypher
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
