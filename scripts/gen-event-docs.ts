/**
 * Writes docs/events.md from the event catalogue in libs/contracts, so the published schemas are
 * the ones Ferry validates with. `npm run docs:events`; a test fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { renderEventDocs } from './event-docs.js';

const target = new URL('../docs/events.md', import.meta.url);
writeFileSync(target, renderEventDocs());
console.log(`wrote ${target.pathname}`);
