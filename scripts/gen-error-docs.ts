/** Writes docs/errors.md from the error-code registry (`npm run docs:errors`); a test fails when it is stale. */
import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from './error-docs.js';

const target = new URL('../docs/errors.md', import.meta.url);
writeFileSync(target, renderErrorDocs());
console.log(`wrote ${target.pathname}`);
